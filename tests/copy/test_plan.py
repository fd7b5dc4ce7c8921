"""The folder plan: names, delimiters, special-use folders, exclusions and the size limit."""

from __future__ import annotations

from wizard.copy.plan import PlanOptions, Role, SourceFolder, TargetLayout, plan_mailbox

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
