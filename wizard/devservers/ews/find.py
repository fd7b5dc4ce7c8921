"""How the EWS stand-in finds: restrictions (And/Or/Not, comparisons, Exists, Contains), sort
order and IndexedPage paging, over field values as strings (``properties.item_value``).
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from .model import parse_datetime
from .soap import parse_bool, t

_DATE_FIELDS = {
    "item:DateTimeReceived",
    "item:DateTimeSent",
    "item:DateTimeCreated",
    "item:LastModifiedTime",
}
_INT_FIELDS = {"item:Size", "folder:TotalCount", "folder:ChildFolderCount", "folder:UnreadCount"}
_BOOL_FIELDS = {"message:IsRead", "item:IsDraft", "item:HasAttachments", "item:IsSubmitted"}


def path_key(path: etree._Element) -> str:
    name = etree.QName(path).localname
    if name == "ExtendedFieldURI":
        tag = path.get("PropertyTag")
        if tag:
            return f"ext:{int(tag, 16) if tag.lower().startswith('0x') else int(tag)}"
        return "ext:unknown"
    return path.get("FieldURI", "")


def _typed(uri: str, text: str | None) -> object:
    if text is None:
        return None
    if uri in _DATE_FIELDS:
        try:
            return parse_datetime(text)
        except ValueError:
            return text
    if uri in _INT_FIELDS or uri.startswith("ext:"):
        try:
            return int(text)
        except ValueError:
            return text.casefold()
    if uri in _BOOL_FIELDS:
        return parse_bool(text)
    return text.casefold()


def sort_key(uri: str, text: str | None) -> tuple[int, object]:
    value = _typed(uri, text)
    return (0, "") if value is None else (1, value)


def matches(expr: etree._Element, value_of: Callable[[str], str | None]) -> bool:
    """Evaluate an EWS restriction (And/Or/Not, comparisons, Exists, Contains) for one object."""
    name = etree.QName(expr).localname
    if name == "And":
        return all(matches(e, value_of) for e in expr)
    if name == "Or":
        return any(matches(e, value_of) for e in expr)
    if name == "Not":
        return not matches(expr[0], value_of)
    uri = path_key(expr[0])
    actual = value_of(uri)
    if name == "Exists":
        return actual is not None
    if name in ("Contains", "Excludes"):
        constant = expr.find(t("Constant"))
        needle = (constant.get("Value", "") if constant is not None else "").casefold()
        hay = (actual or "").casefold()
        mode = expr.get("ContainmentMode", "Substring")
        hit = {
            "FullString": hay == needle,
            "Prefixed": hay.startswith(needle),
        }.get(mode, needle in hay)
        return hit if name == "Contains" else not hit
    constant = expr.find(f"{t('FieldURIOrConstant')}/{t('Constant')}")
    if constant is None or actual is None:
        return name == "IsNotEqualTo" and actual is None and constant is not None
    left, right = _typed(uri, actual), _typed(uri, constant.get("Value", ""))
    try:
        return {
            "IsEqualTo": lambda: left == right,
            "IsNotEqualTo": lambda: left != right,
            "IsGreaterThan": lambda: left > right,  # type: ignore[operator]
            "IsGreaterThanOrEqualTo": lambda: left >= right,  # type: ignore[operator]
            "IsLessThan": lambda: left < right,  # type: ignore[operator]
            "IsLessThanOrEqualTo": lambda: left <= right,  # type: ignore[operator]
        }[name]()
    except (KeyError, TypeError):
        return False


# Exchange's default throttling policy returns at most 1000 entries per FindItem/FindFolder.
FIND_COUNT_LIMIT = 1000


def page_of(found: list, view: etree._Element | None) -> tuple[list, int, bool]:  # type: ignore[type-arg]
    """The slice an IndexedPage view asks for, the next offset, and whether it is the last."""
    total = len(found)
    if view is None:
        found = found[:FIND_COUNT_LIMIT]
        return found, len(found), len(found) == total
    limit = min(int(view.get("MaxEntriesReturned") or FIND_COUNT_LIMIT), FIND_COUNT_LIMIT)
    offset = int(view.get("Offset") or 0)
    if view.get("BasePoint") == "End":
        stop = max(total - offset, 0)
        start = max(stop - limit, 0)
        page = found[start:stop]
        return page, offset + len(page), start == 0
    page = found[offset : offset + limit]
    return page, offset + len(page), offset + len(page) >= total
