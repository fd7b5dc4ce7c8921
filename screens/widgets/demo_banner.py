"""The strip across a demo session's screens: generated data, local servers, how to get rid of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Static

if TYPE_CHECKING:
    from wizard.store import SessionStore


DEMO_TEXT = (
    "DEMO · a made-up company's generated mail, served on this computer (127.0.0.1) only while "
    "`onboard --demo` runs · delete it from the start screen when done"
)
# The demo session opened in an app started without --demo: its servers are not there.
NO_SERVERS_TEXT = (
    "DEMO · its demo servers are not running, so tests, copies and verification of this session "
    "fail · quit (ctrl+q) and run `onboard --demo` to use it"
)


def is_demo(store: SessionStore) -> bool:
    """A demo session: the store's own mark, or the "demo" setting the demo writes."""
    return store.demo or bool(store.setting("demo", False))


class DemoBanner(Static):
    DEFAULT_CSS = """
    DemoBanner {
        width: 100%;
        height: 1;
        background: $warning;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    DemoBanner.-no-servers {
        height: auto;
        background: $error;
    }
    """

    def __init__(self, *, servers: bool = True, id: str = "demo-banner") -> None:  # noqa: A002
        super().__init__(DEMO_TEXT if servers else NO_SERVERS_TEXT, id=id, markup=False)
        self.set_class(not servers, "-no-servers")
