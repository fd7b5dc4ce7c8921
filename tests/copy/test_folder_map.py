"""The folder map: names, delimiters, special folders (also by localized name), overrides."""

from __future__ import annotations

from wizard.copy.folder_map import PlanOptions, Role, SourceFolder, TargetLayout, plan_mailbox

EXCHANGE = TargetLayout(
    kind="ews",
    roles={
        Role.INBOX: ("Inbox",),
        Role.SENT: ("Sent Items",),
        Role.DRAFTS: ("Drafts",),
        Role.TRASH: ("Deleted Items",),
        Role.JUNK: ("Junk Email",),
        Role.ARCHIVE: ("Archive",),
    },
    delimiter="/",
    max_message_size=25 * 1024 * 1024,
)


def targets(plan) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.source: f.target for f in plan.included}


def test_courier_dot_layout_maps_to_exchange_folders() -> None:
    folders = [
        SourceFolder("INBOX", "."),
        SourceFolder("INBOX.Sent", "."),
        SourceFolder("INBOX.Drafts", "."),
        SourceFolder("INBOX.Trash", "."),
        SourceFolder("INBOX.spam", "."),
        SourceFolder("INBOX.Kunden", "."),
        SourceFolder("INBOX.Kunden.Müller & Söhne", "."),
        SourceFolder("INBOX.a/b", "."),
    ]
    plan = plan_mailbox("a@example.com", folders, EXCHANGE)
    assert targets(plan) == {
        "INBOX": "Inbox",
        "INBOX.Sent": "Sent Items",
        "INBOX.Drafts": "Drafts",
        "INBOX.Trash": "Deleted Items",
        "INBOX.spam": "Junk Email",
        "INBOX.Kunden": "Kunden",
        "INBOX.Kunden.Müller & Söhne": "Kunden/Müller & Söhne",
        "INBOX.a/b": "a_b",  # the target's delimiter cannot be part of a name
    }


def test_gmail_special_use_and_virtual_folders() -> None:
    folders = [
        SourceFolder("INBOX", "/"),
        SourceFolder("[Gmail]", "/", ("\\Noselect", "\\HasChildren")),
        SourceFolder("[Gmail]/All Mail", "/", ("\\All",)),
        SourceFolder("[Gmail]/Sent Mail", "/", ("\\Sent",)),
        SourceFolder("[Gmail]/Starred", "/", ("\\Flagged",)),
        SourceFolder("[Gmail]/Spam", "/", ("\\Junk",)),
        SourceFolder("[Gmail]/Bin", "/", ("\\Trash",)),
        SourceFolder("Sent", "/"),  # a plain folder: the flagged one wins the role
        SourceFolder("Clients/ACME", "/"),
    ]
    plan = plan_mailbox("a@example.com", folders, EXCHANGE, PlanOptions())
    assert targets(plan) == {
        "INBOX": "Inbox",
        "[Gmail]/Sent Mail": "Sent Items",
        "[Gmail]/Spam": "Junk Email",
        "[Gmail]/Bin": "Deleted Items",
        "Sent": "Sent",
        "Clients/ACME": "Clients/ACME",
    }
    reasons = {f.source: f.excluded for f in plan.excluded}
    assert set(reasons) == {"[Gmail]", "[Gmail]/All Mail", "[Gmail]/Starred"}
    assert "virtual" in reasons["[Gmail]/All Mail"]


def test_exclusions_by_role_and_pattern_and_subfolders_of_special_folders() -> None:
    folders = [
        SourceFolder("INBOX", "/"),
        SourceFolder("Trash", "/", ("\\Trash",)),
        SourceFolder("Sent", "/", ("\\Sent",)),
        SourceFolder("Sent/2019", "/"),
        SourceFolder("INBOX/Rechnungen", "/"),
        SourceFolder("Old/Backup", "/"),
    ]
    options = PlanOptions(
        exclude_roles=frozenset({Role.ALL, Role.TRASH}), exclude_patterns=("old/*",)
    )
    plan = plan_mailbox("a@example.com", folders, EXCHANGE, options)
    assert targets(plan) == {
        "INBOX": "Inbox",
        "Sent": "Sent Items",
        "Sent/2019": "Sent Items/2019",
        "INBOX/Rechnungen": "Inbox/Rechnungen",
    }
    assert {f.source for f in plan.excluded} == {"Trash", "Old/Backup"}


def test_size_limit_is_the_smaller_of_option_and_target() -> None:
    plan = plan_mailbox("a@x", [SourceFolder("INBOX", "/")], EXCHANGE, PlanOptions())
    assert plan.size_limit == 25 * 1024 * 1024
    assert plan.oversize_reason(1000) == ""
    assert "larger than the target's limit" in plan.oversize_reason(30 * 1024 * 1024)
    smaller = plan_mailbox(
        "a@x", [SourceFolder("INBOX", "/")], EXCHANGE, PlanOptions(size_limit=1024)
    )
    assert smaller.size_limit == 1024


IMAP_TARGET = TargetLayout(
    kind="imap",
    roles={
        Role.INBOX: ("INBOX",),
        Role.SENT: ("Sent",),
        Role.DRAFTS: ("Drafts",),
        Role.TRASH: ("Trash",),
        Role.JUNK: ("Junk",),
        Role.ARCHIVE: ("Archive",),
    },
)


def test_localized_special_folders_map_by_name_where_the_server_marks_none() -> None:
    folders = [
        SourceFolder("INBOX", "/"),
        SourceFolder("Gesendete Elemente", "/"),
        SourceFolder("Objets envoyés", "/"),  # a second Sent by name: a user folder
        SourceFolder("Elementos eliminados", "/"),
        SourceFolder("Junk-E-Mail", "/"),
        SourceFolder("Entwürfe", "/"),
        SourceFolder("Kunden/Sent", "/"),  # deep in the tree: the customer's own
    ]
    plan = plan_mailbox("a@example.com", folders, EXCHANGE)
    assert targets(plan) == {
        "INBOX": "Inbox",
        "Gesendete Elemente": "Sent Items",
        "Objets envoyés": "Objets envoyés",
        "Elementos eliminados": "Deleted Items",
        "Junk-E-Mail": "Junk Email",
        "Entwürfe": "Drafts",
        "Kunden/Sent": "Kunden/Sent",
    }
    sent = plan.folder("Gesendete Elemente")
    assert sent is not None and "'Gesendete Elemente'" in sent.reason
    assert "marks no special folders" in sent.reason and "sent folder" in sent.reason
    kept = plan.folder("Objets envoyés")
    assert kept is not None and kept.reason == "user folder: keeps its name"


def test_a_user_folder_archiv_keeps_its_name_whatever_the_target_holds() -> None:
    folders = [
        SourceFolder("INBOX", "/"),
        SourceFolder("Sent", "/", ("\\Sent",)),
        SourceFolder("Archiv", "/"),
        SourceFolder("Spam", "/"),
    ]
    without_archive = TargetLayout("imap", {Role.INBOX: ("INBOX",), Role.SENT: ("Sent",)})
    for layout in (EXCHANGE, IMAP_TARGET, without_archive):
        plan = plan_mailbox("a@example.com", folders, layout)
        assert targets(plan)["Archiv"] == "Archiv", layout
        assert targets(plan)["Spam"] == "Spam", layout
        assert plan.folder("Archiv").role is None  # type: ignore[union-attr]


def test_cyrus_layout_roles_come_from_special_use_in_lower_case() -> None:
    folders = [
        SourceFolder("INBOX", ".", ("\\HasChildren",)),
        SourceFolder("INBOX.Archive", ".", ("\\HasNoChildren", "\\archive")),
        SourceFolder("INBOX.Sent", ".", ("\\HasNoChildren", "\\sent")),
        SourceFolder("INBOX.Spam", ".", ("\\HasNoChildren", "\\junk")),
        SourceFolder("INBOX.Kunden", ".", ("\\HasNoChildren",)),
    ]
    plan = plan_mailbox("a@example.com", folders, EXCHANGE)
    assert targets(plan) == {
        "INBOX": "Inbox",
        "INBOX.Archive": "Archive",
        "INBOX.Sent": "Sent Items",
        "INBOX.Spam": "Junk Email",
        "INBOX.Kunden": "Kunden",
    }
    spam = plan.folder("INBOX.Spam")
    assert spam is not None and spam.reason.startswith("special folder (SPECIAL-USE \\junk)")


def test_the_operator_overrides_a_role() -> None:
    folders = [SourceFolder("INBOX", "/"), SourceFolder("Gesendet", "/"), SourceFolder("Alt", "/")]
    options = PlanOptions(role_overrides=(("Gesendet", "none"), ("Alt", "archive")))
    plan = plan_mailbox("a@example.com", folders, EXCHANGE, options)
    assert targets(plan) == {"INBOX": "Inbox", "Gesendet": "Gesendet", "Alt": "Archive"}
    assert "the operator's choice" in plan.folder("Alt").reason  # type: ignore[union-attr]
    assert "the operator's choice" in plan.folder("Gesendet").reason  # type: ignore[union-attr]


def test_a_role_override_is_checked() -> None:
    import pytest

    from wizard.copy.folder_map import parse_role_override

    assert parse_role_override("Kunden=Archive") == ("Kunden", "archive")
    assert parse_role_override("a=b=none") == ("a=b", "none")
    with pytest.raises(ValueError, match="not a role"):
        parse_role_override("Kunden=altpapier")
    with pytest.raises(ValueError, match="FOLDER=ROLE"):
        parse_role_override("Kunden")
