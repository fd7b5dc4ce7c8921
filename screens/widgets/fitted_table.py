"""A DataTable that gives up its low-priority columns before it cuts a number.

Each column has a priority: 0 is never given up (names and numbers), higher numbers go first.
When the columns' widths add up to more than the table is wide, the highest-priority-number
columns are hidden until the rest fit; a resize or wider content lays it out again. The table
keeps every cell, shown or hidden, so ``update_cell`` and ``get_cell`` take any column's key.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


@dataclass(frozen=True)
class TableColumn:
    """One column: its key, its header and how soon it is given up (0: never)."""

    key: str
    label: str
    priority: int = 0


def cell_width(value: object) -> int:
    """How many terminal cells a value takes in one line."""
    if isinstance(value, Text):
        return value.cell_len
    return max((cell_len(line) for line in str(value).splitlines()), default=0)


def fitting_columns(
    columns: Sequence[TableColumn], widths: dict[str, int], available: int, padding: int
) -> tuple[str, ...]:
    """The keys of the columns shown in ``available`` cells: the highest priority numbers are
    given up first, the last ones shown first among equals; priority 0 is always shown."""
    shown = list(columns)
    droppable = sorted(
        (c for c in columns if c.priority > 0),
        key=lambda c: (c.priority, columns.index(c)),
        reverse=True,
    )

    def needed() -> int:
        return sum(widths.get(c.key, 0) + 2 * padding for c in shown)

    for column in droppable:
        if needed() <= available:
            break
        shown.remove(column)
    return tuple(c.key for c in shown)


class FittedTable(DataTable[Any]):
    """A DataTable whose columns are ``TableColumn``s, shown as far as the width allows."""

    DEFAULT_CSS = """
    FittedTable { width: 1fr; }
    """

    def __init__(self, columns: Sequence[TableColumn], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table_columns = tuple(columns)
        self._cells: dict[Hashable, dict[str, object]] = {}  # row key -> column key -> value
        self._order: list[Hashable] = []
        self._widths = {c.key: cell_width(c.label) for c in columns}
        self._shown: tuple[str, ...] = tuple(c.key for c in columns)
        for column in self.table_columns:
            super().add_column(column.label, key=column.key)

    @property
    def shown_columns(self) -> tuple[str, ...]:
        """The keys of the columns shown now, in order."""
        return self._shown

    # ----- rows: every cell is kept, the shown ones are handed to the DataTable ---------------

    def add_row(
        self,
        *cells: Any,
        height: int | None = 1,
        key: str | None = None,
        label: Any = None,
    ) -> RowKey:
        values = dict(zip((c.key for c in self.table_columns), cells, strict=True))
        row_key = key if key is not None else f"row-{len(self._order)}"
        self._cells[row_key] = values
        self._order.append(row_key)
        self._grow(values)
        shown = [values[k] for k in self._shown]
        result = super().add_row(*shown, height=height, key=row_key, label=label)
        self._refit()
        return result

    def update_cell(
        self,
        row_key: RowKey | str,
        column_key: ColumnKey | str,
        value: Any,
        *,
        update_width: bool = False,
    ) -> None:
        row = row_key.value if isinstance(row_key, RowKey) else row_key
        column = str(column_key.value if isinstance(column_key, ColumnKey) else column_key)
        self._cells[row][column] = value
        if column in self._shown:
            super().update_cell(row_key, column_key, value, update_width=True)
        if self._grow({column: value}):
            self._refit()

    def get_cell(self, row_key: RowKey | str, column_key: ColumnKey | str) -> Any:
        row = row_key.value if isinstance(row_key, RowKey) else row_key
        column = str(column_key.value if isinstance(column_key, ColumnKey) else column_key)
        return self._cells[row][column]

    def clear(self, columns: bool = False) -> FittedTable:
        if not columns:
            self._cells.clear()
            self._order.clear()
        return super().clear(columns)  # type: ignore[return-value]

    def add_rows(self, rows: Iterable[Iterable[Any]]) -> list[RowKey]:
        return [self.add_row(*row) for row in rows]

    # ----- fitting ----------------------------------------------------------------------------

    def _grow(self, values: dict[str, object]) -> bool:
        grew = False
        for key, value in values.items():
            width = cell_width(value)
            if width > self._widths.get(key, 0):
                self._widths[key] = width
                grew = True
        return grew

    def _on_resize(self, event: events.Resize) -> None:
        super()._on_resize(event)
        self._refit()

    def _refit(self) -> None:
        available = self.scrollable_content_region.width
        if available <= 0:
            return  # not laid out yet: the first resize fits it
        wanted = fitting_columns(self.table_columns, self._widths, available, self.cell_padding)
        needed = sum(self._widths[k] + 2 * self.cell_padding for k in wanted)
        # A table that fits needs no horizontal scrollbar (one left from before it fitted would
        # stay and hide a row); one that cannot fit keeps it.
        self.styles.overflow_x = "hidden" if needed <= available else "auto"
        if wanted == self._shown:
            return
        self._shown = wanted
        cursor = self.cursor_coordinate.row
        super().clear(columns=True)
        for column in self.table_columns:
            if column.key in wanted:
                super().add_column(column.label, key=column.key)
        for key in self._order:
            values = self._cells[key]
            super().add_row(*(values[k] for k in wanted), key=key)  # type: ignore[arg-type]
        if self.row_count:
            self.move_cursor(row=min(cursor, self.row_count - 1), animate=False)
