"""The copy's memory budget: message bytes held at once, over all mailboxes."""

from __future__ import annotations

import threading

from wizard.copy.memory import ByteBudget


def test_a_capped_budget_makes_new_batches_wait_under_the_cap_and_is_never_raised() -> None:
    budget = ByteBudget(48)
    assert budget.acquire(30, lambda: False)
    budget.cap(32)
    budget.cap(64)  # a second target asking for more does not raise it
    assert budget.limit == 32
    got = threading.Event()
    waiting = threading.Thread(target=lambda: budget.acquire(10, lambda: False) and got.set())
    waiting.start()
    assert not got.wait(0.3)  # 30 + 10 would be over 32: the batch waits
    budget.release(30)
    assert got.wait(5)
    waiting.join()
    assert (budget.used, budget.peak) == (10, 30)


def test_one_message_larger_than_the_budget_still_goes_alone() -> None:
    budget = ByteBudget(32)
    assert budget.acquire(40, lambda: False)  # nothing else held: it may go
    assert budget.peak == 40
    assert not budget.acquire(1, lambda: True)  # the rest waits (here: stopped while waiting)
