"""Kill -9 a headless `onboard copy` into Exchange (the EWS stand-in) at random moments; the rerun
copies what is missing and duplicates nothing, messages without a Message-ID and twins included."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from tests.copy.corpus import WHEN, message
from tests.copy.one_run import copy_one
from tests.copy.test_kill import kill_at_random_moments
from tests.servers import ews
from tests.servers.dovecot import DovecotServer, SeedMessage
from wizard.copy.connect import source_factory
from wizard.copy.exchange_target import exchange_target_factory, settings_from_endpoint
from wizard.devservers.ews import EWS_PATH, EwsSandbox
from wizard.endpoint import parse_endpoint

# Source folder -> the Exchange folder it lands in.
FOLDERS = {"INBOX": "Inbox", "Projekte/2023": "Projekte/2023", "Sent": "Sent Items"}


def fill(dovecot: DovecotServer, login: str, per_folder: int) -> dict[str, Counter[bytes]]:
    """Seed the source; returns each folder's messages as a multiset of raw bytes."""
    rng = random.Random(11)
    seeded: dict[str, Counter[bytes]] = {}
    for index, folder in enumerate(FOLDERS):
        batch: list[SeedMessage] = []
        for n in range(per_folder):
            number = 10_000 * (index + 1) + n
            raw = message(number, message_id=n % 6 != 0, size=rng.randint(500, 40_000))
            batch.append(SeedMessage(raw, ("\\Seen",) if n % 3 else (), WHEN))
            if n % 10 == 0:  # an identical twin now and then, some of them without Message-ID
                batch.append(batch[-1])
        dovecot.seed(login, folder, batch)
        seeded[folder] = Counter(m.raw for m in batch)
    return seeded


def copy_with_short_timeout(dovecot: DovecotServer, source, ews_sandbox: EwsSandbox):  # type: ignore[no-untyped-def]
    """Copy the Dovecot user ``source`` into the stand-in's mailbox in this process, with a 1 s
    timeout per request; the result and the copy's log lines."""
    endpoint = parse_endpoint(f"ews://{ews.USER}@127.0.0.1:{ews_sandbox.port}{EWS_PATH}?tls=none")
    settings = replace(settings_from_endpoint(endpoint), timeout=1.0)
    return copy_one(
        ews.USER,
        source_factory(
            parse_endpoint(f"imap://{source.login}@127.0.0.1:{dovecot.imap_port}?tls=none"),
            source.password,
        ),
        exchange_target_factory(settings, ews.USER, ews.PASSWORD),
        backoff_initial=0.05,
    )


def test_kill_an_exchange_copy_at_random_moments_then_rerun(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, tmp_path: Path
) -> None:
    source = dovecot.add_user()
    seeded = fill(dovecot, source.login, 120)
    total = sum(sum(c.values()) for c in seeded.values())
    ledger = tmp_path / "ledger.onboard"
    command = [
        sys.executable,
        "-m",
        "wizard.cli",
        "copy",
        "--source",
        f"imap://{source.login}@127.0.0.1:{dovecot.imap_port}?tls=none",
        "--dest",
        f"ews://{ews.USER}@127.0.0.1:{ews_sandbox.port}{EWS_PATH}?tls=none",
        "--ledger",
        str(ledger),
        "--json",
    ]
    env = {
        **os.environ,
        "ONBOARD_SOURCE_PASSWORD": source.password,
        "ONBOARD_DEST_PASSWORD": ews.PASSWORD,
    }
    kills, partial = kill_at_random_moments(command, env, ledger, total, 4321)
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert final.returncode == 0, final.stderr

    box = ews_sandbox.mailbox(ews.USER)
    for folder, target in FOLDERS.items():
        landed = Counter(item.mime for item in box.items_in(target))
        assert sum(landed.values()) == sum(seeded[folder].values()), folder
        assert landed == seeded[folder], f"{folder}: missing or duplicated messages"
    assert kills >= 1, "the copy finished before any kill; make the mailbox larger"
    assert any(0 < n < total for n in partial), f"no kill hit the middle of the copy: {partial}"
    # Read state came along: the unread ones (every third) are unread on Exchange too.
    unread = [i for i in box.items_in("Inbox") if not i.is_read]
    assert len(unread) == sum(1 for n in range(120) if n % 3 == 0) + sum(
        1 for n in range(120) if n % 3 == 0 and n % 10 == 0
    )


def test_a_batch_exchange_did_not_answer_in_time_is_not_sent_twice(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox
) -> None:
    """Exchange stores the first batch 3 s late, after the copy's 1 s timeout: the copy
    reconnects and finds nothing yet. It must not send the batch again at once: it waits, looks
    again, finds it, and goes on."""
    source = dovecot.add_user()
    seeded = fill(dovecot, source.login, 20)
    ews_sandbox.faults.slow(3.0, operation="CreateItem", times=1)
    started = time.monotonic()
    result, logs = copy_with_short_timeout(dovecot, source, ews_sandbox)
    time.sleep(max(0.0, started + 3.5 - time.monotonic()))  # the slow request has been stored
    assert result.failed == 0, result.error
    box = ews_sandbox.mailbox(ews.USER)
    for folder, target in FOLDERS.items():
        landed = Counter(item.mime for item in box.items_in(target))
        assert landed == seeded[folder], f"{folder}: missing or duplicated messages"
    assert any("did not answer in time" in line for line in logs), logs


@pytest.mark.parametrize("fault", ["dropped", "late"])
def test_a_folder_exchange_created_without_saying_so_is_used_not_made_twice(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, fault: str
) -> None:
    """The first CreateFolder is carried out but its answer is lost (the link drops after it)
    or comes after the copy's 1 s timeout: the copy finds the folder and fills it."""
    source = dovecot.add_user()
    seeded = fill(dovecot, source.login, 5)
    if fault == "dropped":
        ews_sandbox.faults.drop_connection(operation="CreateFolder", after_processing=True)
    else:
        ews_sandbox.faults.slow(2.0, operation="CreateFolder")
    result, logs = copy_with_short_timeout(dovecot, source, ews_sandbox)
    assert result.failed == 0, (result.error, logs)
    assert any("creating the target folder" in line and "retrying" in line for line in logs)
    box = ews_sandbox.mailbox(ews.USER)
    assert [p for p in box.folder_paths() if p.startswith("Projekte")] == [
        "Projekte",
        "Projekte/2023",
    ]
    for folder, target in FOLDERS.items():
        landed = Counter(item.mime for item in box.items_in(target))
        assert landed == seeded[folder], f"{folder}: missing or duplicated messages"
