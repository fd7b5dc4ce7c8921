"""Which columns a table keeps at a width: the highest priority numbers go first, priority 0
never, and a table that fits keeps every column."""

from __future__ import annotations

from rich.text import Text

from screens.widgets.fitted_table import TableColumn, cell_width, fitting_columns

COLUMNS = (
    TableColumn("mailbox", "Mailbox"),
    TableColumn("state", "State", 2),
    TableColumn("messages", "Messages"),
    TableColumn("spark", "Throughput", 8),
    TableColumn("failed", "Failed", 1),
)
WIDTHS = {"mailbox": 30, "state": 10, "messages": 9, "spark": 12, "failed": 6}  # + 2 padding each


def test_a_table_that_fits_keeps_every_column() -> None:
    assert fitting_columns(COLUMNS, WIDTHS, 77, 1) == (
        "mailbox",
        "state",
        "messages",
        "spark",
        "failed",
    )


def test_low_priority_columns_go_first_and_priority_0_never() -> None:
    assert fitting_columns(COLUMNS, WIDTHS, 76, 1) == ("mailbox", "state", "messages", "failed")
    assert fitting_columns(COLUMNS, WIDTHS, 55, 1) == ("mailbox", "messages", "failed")
    assert fitting_columns(COLUMNS, WIDTHS, 10, 1) == ("mailbox", "messages")


def test_widths_are_terminal_cells() -> None:
    assert cell_width("Jürgen Weiß") == 11
    assert cell_width(Text("12/12")) == 5
    assert cell_width("東京") == 4
