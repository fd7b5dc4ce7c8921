"""The long work's progress messages: a burst waiting in the App's queue collapses to the newest."""

from __future__ import annotations

from textual.app import App
from textual.message import Message

from screens.messages import CopyFinished, CopyProgressed, PollResult, PropagationRound
from wizard.copy.events import MailboxProgress


class Recorder(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.heard: list[Message] = []

    def on_copy_progressed(self, message: CopyProgressed) -> None:
        self.heard.append(message)

    def on_copy_finished(self, message: CopyFinished) -> None:
        self.heard.append(message)

    def on_propagation_round(self, message: PropagationRound) -> None:
        self.heard.append(message)


def progress(done: int) -> CopyProgressed:
    latest = {"anna@acme.example": MailboxProgress("anna@acme.example", done=done)}
    return CopyProgressed("acme", latest)


async def test_a_burst_of_progress_collapses_to_the_newest_and_the_end_is_kept() -> None:
    app = Recorder()
    async with app.run_test() as pilot:
        for done in range(1, 101):  # a burst, as engine threads post it
            app.post_message(progress(done))
        app.post_message(CopyFinished("acme", ok=True, summary="finished"))
        for n in range(1, 21):
            app.post_message(PropagationRound(PollResult(n, 0.0, matrix=n)))
        await pilot.pause(0.2)
    copies = [m for m in app.heard if isinstance(m, CopyProgressed)]
    rounds = [m for m in app.heard if isinstance(m, PropagationRound)]
    assert 1 <= len(copies) < 10, len(copies)  # not a hundred redraws
    assert copies[-1].latest["anna@acme.example"].done == 100  # the newest is never lost
    assert [m.summary for m in app.heard if isinstance(m, CopyFinished)] == ["finished"]
    assert app.heard.index(copies[-1]) < app.heard.index(rounds[0])  # order kept across kinds
    assert len(rounds) < 20 and rounds[-1].result.matrix == 20
