"""Folders of a mailbox: names (decoded from modified UTF-7), delimiter, flags and role.

The one place a folder's role is decided, for ``onboard check imap`` and the copy alike, from the
source alone: RFC 6154 special-use attributes where the server gives any; a server without them
gets roles from the well-known names clients use in the common languages, for top-level folders
(or children of INBOX) only, one folder per role. On a server with SPECIAL-USE a folder without
an attribute is a user folder whatever its name ("Archiv" stays "Archiv").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imapclient import IMAPClient


class Role(StrEnum):
    INBOX = "inbox"
    SENT = "sent"
    DRAFTS = "drafts"
    TRASH = "trash"
    JUNK = "junk"
    ARCHIVE = "archive"
    ALL = "all"
    FLAGGED = "flagged"
    IMPORTANT = "important"  # Gmail's XLIST/extension flag


SPECIAL_USE_FLAGS: dict[str, Role] = {
    "\\sent": Role.SENT,
    "\\drafts": Role.DRAFTS,
    "\\trash": Role.TRASH,
    "\\junk": Role.JUNK,
    "\\archive": Role.ARCHIVE,
    "\\all": Role.ALL,
    "\\flagged": Role.FLAGGED,
    # Gmail's older XLIST spellings
    "\\spam": Role.JUNK,
    "\\allmail": Role.ALL,
    "\\starred": Role.FLAGGED,
    "\\important": Role.IMPORTANT,
}

# Lower-case last path segments, most common first, as clients and servers name them (English,
# German, French, Spanish, Italian, Dutch, Portuguese; Outlook's and Thunderbird's spellings).
WELL_KNOWN_NAMES: dict[Role, tuple[str, ...]] = {
    Role.SENT: ("sent", "sent items", "sent messages", "sent mail", "gesendet",
                "gesendete objekte", "gesendete elemente", "envoyés", "éléments envoyés",
                "objets envoyés", "messages envoyés", "enviados", "elementos enviados",
                "correo enviado", "inviata", "posta inviata", "elementi inviati", "verzonden",
                "verzonden items", "itens enviados"),
    Role.DRAFTS: ("drafts", "draft", "entwürfe", "brouillons", "borradores", "bozze",
                  "concepten", "rascunhos"),
    Role.TRASH: ("trash", "deleted items", "deleted messages", "deleted", "bin",
                 "papierkorb", "gelöschte objekte", "gelöschte elemente", "corbeille",
                 "éléments supprimés", "objets supprimés", "papelera", "elementos eliminados",
                 "cestino", "posta eliminata", "elementi eliminati", "prullenbak",
                 "verwijderde items", "lixeira", "itens excluídos"),
    Role.JUNK: ("junk", "spam", "junk e-mail", "junk email", "junk mail", "bulk mail", "junk-e-mail",
                "spamverdacht", "courrier indésirable", "indésirables", "correo no deseado",
                "posta indesiderata", "ongewenste e-mail", "lixo eletrônico"),
    Role.ARCHIVE: ("archive", "archives", "archiv", "archief", "archivio", "archivo",
                   "arquivo"),
}  # fmt: skip


@dataclass(frozen=True)
class Folder:
    name: str  # decoded (Unicode) full name, as used with imapclient
    delimiter: str  # hierarchy separator, "" for a flat namespace
    flags: tuple[str, ...]  # LIST attributes as text, e.g. ("\\HasNoChildren", "\\Sent")
    role: Role | None = None
    role_from: str = ""  # "special-use", "name" or "" (INBOX is always "name")

    @property
    def selectable(self) -> bool:
        lowered = {f.lower() for f in self.flags}
        return "\\noselect" not in lowered and "\\nonexistent" not in lowered

    @property
    def special_use(self) -> str:
        """The RFC 6154 attribute the server gave, e.g. "\\Sent", or ""."""
        for flag in self.flags:
            if flag.lower() in SPECIAL_USE_FLAGS:
                return flag
        return ""

    @property
    def role_reason(self) -> str:
        """Why the folder has its role, in the operator's words ("" for a user folder)."""
        if self.role is None:
            return ""
        if self.role is Role.INBOX:
            return "the inbox"
        if self.role_from == "special-use":
            return f"SPECIAL-USE {self.special_use}"
        return f"its name {self.parts[-1]!r} (the server marks no special folders)"

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.name.split(self.delimiter)) if self.delimiter else (self.name,)

    @property
    def depth(self) -> int:
        return len(self.parts) - 1


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def assign_roles(raw: list[tuple[tuple[str, ...], str, str]]) -> list[Folder]:
    """Folders with roles from special-use attributes, else from well-known names."""
    has_special_use = any(
        flag.lower() in SPECIAL_USE_FLAGS for flags, _delim, _name in raw for flag in flags
    )
    folders: list[Folder] = []
    taken: set[Role] = set()
    for flags, delim, name in raw:
        role: Role | None = None
        source = ""
        if name.upper() == "INBOX":
            role, source = Role.INBOX, "name"
        elif has_special_use:
            for flag in flags:
                if flag.lower() in SPECIAL_USE_FLAGS:
                    role, source = SPECIAL_USE_FLAGS[flag.lower()], "special-use"
                    break
        folders.append(Folder(name, delim, flags, role, source))
        if role:
            taken.add(role)
    if has_special_use:
        return folders
    # Fallback: the best-ranked well-known name per role among top-level folders (or children of
    # INBOX); a "Sent" deeper in the tree is the customer's own folder.
    for role, names in WELL_KNOWN_NAMES.items():
        best: tuple[int, int] | None = None
        for index, folder in enumerate(folders):
            if folder.role or not folder.selectable:
                continue
            parts = folder.parts
            leaf = parts[-1].lower()
            top = len(parts) == 1 or (len(parts) == 2 and parts[0].upper() == "INBOX")
            if not top or leaf not in names:
                continue
            rank = (names.index(leaf), index)
            if best is None or rank < best:
                best = rank
        if best is not None:
            f = folders[best[1]]
            folders[best[1]] = Folder(f.name, f.delimiter, f.flags, role, "name")
    return folders


def list_folders(client: IMAPClient) -> list[Folder]:
    """Every folder of the logged-in mailbox, with roles (see module text)."""
    raw = [
        (tuple(_text(f) for f in flags), _text(delim), _text(name))
        for flags, delim, name in client.list_folders()
    ]
    return assign_roles(raw)
