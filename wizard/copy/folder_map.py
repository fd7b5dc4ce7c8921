"""The folder map of one mailbox pair: which source folder goes to which target folder, and why.

Folder names here are always decoded text (IMAP's modified UTF-7 is undone by the source reader
and redone by an IMAP target on the wire). A folder's path is its name split on the server's
delimiter, so "INBOX.Kunden.Müller" on a "."-server and "Kunden/Müller" on a "/"-server plan to
the same target path. Roles are the source's alone (wizard.imap.folders.assign_roles, the same
as ``check imap`` shows: SPECIAL-USE, or well-known names on a server without it), so a folder
maps the same way whatever the target already holds; the operator can override a folder's role.
Special folders go to the target's own Sent, Drafts, Trash, Junk and Archive, with their
sub-folders beneath; user folders keep their names. Each folder's plan says why it goes where it
goes. Virtual folders that only repeat other mail (Gmail's "All Mail", "Starred", "Important")
are excluded by default; more can be excluded by role or name pattern.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..imap.folders import SPECIAL_USE_FLAGS, WELL_KNOWN_NAMES, Role, assign_roles

# One vocabulary of folder roles for the whole tool: the IMAP engine's (RFC 6154 flags, Gmail's
# XLIST spellings, and the well-known names used on servers without SPECIAL-USE).
_FLAG_ROLES: dict[str, Role] = {"\\inbox": Role.INBOX, **SPECIAL_USE_FLAGS}

DEFAULT_EXCLUDED_ROLES: frozenset[Role] = frozenset({Role.ALL, Role.FLAGGED, Role.IMPORTANT})
_NOT_SELECTABLE = {"\\noselect", "\\nonexistent"}


@dataclass(frozen=True)
class SourceFolder:
    """A folder as listed by the source server (name decoded from modified UTF-7)."""

    name: str
    delimiter: str | None = None
    flags: tuple[str, ...] = ()
    subscribed: bool = True  # the customer's subscription (LSUB), carried to an IMAP target

    @property
    def path(self) -> tuple[str, ...]:
        return split_path(self.name, self.delimiter)

    @property
    def selectable(self) -> bool:
        return not any(f.lower() in _NOT_SELECTABLE for f in self.flags)

    @property
    def flag_role(self) -> Role | None:
        if self.name.upper() == "INBOX":
            return Role.INBOX
        for flag in self.flags:
            role = _FLAG_ROLES.get(flag.lower())
            if role is not None:
                return role
        return None


@dataclass(frozen=True)
class TargetLayout:
    """What the plan needs to know about the target: its own special folders and limits.

    ``roles`` maps a role to the path of the target's folder for it (Exchange: its well-known
    folders by display name; IMAP: the SPECIAL-USE folders or the names it would create).
    ``prefix`` is the target's personal namespace ("INBOX" on Courier-style servers), put in
    front of every path that is not a role folder. ``max_message_size`` is in bytes.
    """

    kind: str
    roles: Mapping[Role, tuple[str, ...]]
    delimiter: str = "/"
    prefix: tuple[str, ...] = ()
    max_message_size: int | None = None

    def key(self, path: Sequence[str]) -> str:
        """The target folder's name as one string, as stored in the ledger."""
        return self.delimiter.join(path)


@dataclass(frozen=True)
class FolderPlan:
    """One source folder and where its mail goes, or why it is left out."""

    source: str
    role: Role | None
    target_path: tuple[str, ...]
    target: str
    excluded: str = ""
    reason: str = ""  # why the folder goes to ``target``, for the plan and --dry-run
    subscribed: bool = True

    @property
    def included(self) -> bool:
        return not self.excluded


@dataclass(frozen=True)
class PlanOptions:
    """Choices the operator can make for a mailbox pair."""

    exclude_roles: frozenset[Role] = DEFAULT_EXCLUDED_ROLES
    exclude_patterns: tuple[str, ...] = ()  # fnmatch patterns on the decoded source name
    size_limit: int | None = None  # bytes; the smaller of this and the target's limit applies
    source_prefix: str | None = None  # personal namespace to strip, e.g. "INBOX."; None = guess
    role_overrides: tuple[tuple[str, str], ...] = ()  # (source folder, role value or "none")
    copy_deleted: bool = False  # copy messages flagged \Deleted but not expunged (with the flag)


@dataclass(frozen=True)
class MailboxPlan:
    mailbox: str
    folders: tuple[FolderPlan, ...]
    size_limit: int | None = None
    target_kind: str = ""
    copy_deleted: bool = False

    @property
    def included(self) -> tuple[FolderPlan, ...]:
        return tuple(f for f in self.folders if f.included)

    @property
    def excluded(self) -> tuple[FolderPlan, ...]:
        return tuple(f for f in self.folders if not f.included)

    def folder(self, source: str) -> FolderPlan | None:
        for f in self.folders:
            if f.source == source:
                return f
        return None

    def oversize_reason(self, size: int) -> str:
        """Why a message of ``size`` bytes is skipped, or "" when it fits."""
        if self.size_limit is None or size <= self.size_limit:
            return ""
        return (
            f"larger than the target's limit: {size / 1_048_576:.1f} MB, "
            f"limit {self.size_limit / 1_048_576:.1f} MB"
        )

    def skip_reason(self, size: int, flags: Sequence[str] = ()) -> str:
        """Why a message is left on the source (too large, or deleted), or "" to copy it."""
        if not self.copy_deleted and any(f.lower() == "\\deleted" for f in flags):
            return (
                "flagged \\Deleted on the source (deleted, not yet expunged); "
                "--copy-deleted copies it"
            )
        return self.oversize_reason(size)


def split_path(name: str, delimiter: str | None) -> tuple[str, ...]:
    if not delimiter:
        return (name,)
    return tuple(part for part in name.split(delimiter) if part != "") or (name,)


def guess_source_prefix(folders: Iterable[SourceFolder]) -> tuple[str, ...]:
    """Courier-style servers keep every folder under INBOX; their prefix is stripped."""
    folders = list(folders)
    others = [f for f in folders if f.name.upper() != "INBOX"]
    if others and all(f.path[0].upper() == "INBOX" and len(f.path) > 1 for f in others):
        return ("INBOX",)
    return ()


def _strip_prefix(path: tuple[str, ...], prefix: tuple[str, ...]) -> tuple[str, ...]:
    if (
        prefix
        and len(path) > len(prefix)
        and tuple(p.upper() for p in path[: len(prefix)]) == tuple(p.upper() for p in prefix)
    ):
        return path[len(prefix) :]
    return path


def _clean(component: str, delimiter: str) -> str:
    """A folder name may not contain the target's delimiter; a lookalike takes its place."""
    return component.replace(delimiter, "_") if delimiter else component


@dataclass
class _Node:
    folder: SourceFolder
    path: tuple[str, ...]
    role: Role | None = None
    why: str = ""  # why it has its role


def parse_role_override(text: str) -> tuple[str, str]:
    """``NAME=ROLE`` (ROLE one of the roles, or "none" for a user folder); ValueError if not."""
    name, sep, value = text.rpartition("=")
    value = value.strip().lower()
    if not sep or not name:
        raise ValueError(f"{text!r}: write FOLDER=ROLE, e.g. 'Gesendet=sent' or 'Archiv=none'")
    if value != "none" and value not in {r.value for r in Role}:
        roles = ", ".join(r.value for r in Role)
        raise ValueError(f"{text!r}: {value!r} is not a role; use one of {roles} or none")
    return name, value


def plan_mailbox(
    mailbox: str,
    source_folders: Sequence[SourceFolder],
    target: TargetLayout,
    options: PlanOptions | None = None,
) -> MailboxPlan:
    """Map every source folder to a target folder path, or to a reason it is left out."""
    options = options or PlanOptions()
    if options.source_prefix is not None:
        delim = next((f.delimiter for f in source_folders if f.delimiter), None)
        prefix = (
            split_path(options.source_prefix.rstrip(delim or ""), delim)
            if options.source_prefix
            else ()
        )
    else:
        prefix = guess_source_prefix(source_folders)

    assigned = assign_roles([(f.flags, f.delimiter or "", f.name) for f in source_folders])
    overrides = dict(options.role_overrides)
    nodes: list[_Node] = []
    for folder, found in zip(source_folders, assigned, strict=True):
        node = _Node(folder, _strip_prefix(folder.path, prefix), found.role, found.role_reason)
        if folder.name in overrides:
            value = overrides[folder.name]
            node.role = None if value == "none" else Role(value)
            node.why = "the operator's choice"
        nodes.append(node)

    by_path = {n.path: n for n in nodes}
    plans: list[FolderPlan] = []
    for node in nodes:
        path = node.path
        target_path: tuple[str, ...] | None = None
        reason = ""
        # The nearest ancestor (or the folder itself) with a role decides where it lands.
        for cut in range(len(path), 0, -1):
            ancestor = by_path.get(path[:cut])
            if ancestor is not None and ancestor.role and ancestor.role in target.roles:
                rest = tuple(_clean(c, target.delimiter) for c in path[cut:])
                target_path = tuple(target.roles[ancestor.role]) + rest
                if ancestor is node:
                    reason = f"special folder ({node.why}): the target's {node.role} folder"
                else:
                    reason = f"inside {ancestor.folder.name!r}, a special folder"
                break
            if cut == 1 and path[0].upper() == "INBOX" and Role.INBOX in target.roles:
                target_path = tuple(target.roles[Role.INBOX]) + tuple(
                    _clean(c, target.delimiter) for c in path[1:]
                )
                reason = "inside the inbox"
        if target_path is None:
            target_path = target.prefix + tuple(_clean(c, target.delimiter) for c in path)
            reason = "user folder: keeps its name"
            if node.why == "the operator's choice":
                reason += " (the operator's choice)"
        if any(target.delimiter and target.delimiter in c for c in path):
            reason += f" ({target.delimiter!r} in a name became '_')"
        excluded = ""
        if not node.folder.selectable:
            excluded = "not selectable (holds only sub-folders)"
        elif node.role in options.exclude_roles:
            excluded = f"excluded: {node.role.value} is a virtual folder or was left out"
        else:
            for pattern in options.exclude_patterns:
                if fnmatch.fnmatch(node.folder.name.lower(), pattern.lower()):
                    excluded = f"excluded by pattern {pattern!r}"
                    break
        plans.append(
            FolderPlan(
                source=node.folder.name,
                role=node.role,
                target_path=target_path,
                target=target.key(target_path),
                excluded=excluded,
                reason=reason,
                subscribed=node.folder.subscribed,
            )
        )
    limits = [x for x in (options.size_limit, target.max_message_size) if x]
    return MailboxPlan(
        mailbox=mailbox,
        folders=tuple(plans),
        size_limit=min(limits) if limits else None,
        target_kind=target.kind,
        copy_deleted=options.copy_deleted,
    )


__all__ = [
    "DEFAULT_EXCLUDED_ROLES",
    "FolderPlan",
    "MailboxPlan",
    "PlanOptions",
    "Role",
    "SourceFolder",
    "TargetLayout",
    "WELL_KNOWN_NAMES",
    "guess_source_prefix",
    "parse_role_override",
    "plan_mailbox",
    "split_path",
]
