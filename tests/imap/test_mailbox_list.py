"""The step-3 mailbox list: one mailbox at a time, and CSV imports that go in whole or not at all."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.activity import log_files, read_records
from wizard.imap.credentials import (
    SHARED_TOKEN_KEY,
    mailbox_secret,
    master_secret_key,
    save_server_secret,
)
from wizard.imap.mailbox_list import (
    M365_LAYOUT,
    MailboxImportError,
    add_mailbox,
    edit_mailbox,
    import_mailboxes,
    parse_mailbox_csv,
    remove_mailbox,
)
from wizard.imap.settings import AuthMode, ImapServerSettings
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key
from wizard.session import create_session
from wizard.store import SessionStore

MIXED = (
    "source_login,source_password,target_address,display_name\n"
    "anna,pw-anna,anna@acme.example,Anna Berg\n"  # 2 good
    ",pw,nobody@acme.example,\n"  # 3 empty login
    "bert,pw-bert,bert-at-acme.example,Bert\n"  # 4 bad address
    "carl,pw-carl,ANNA@acme.example,Carl\n"  # 5 duplicate of line 2
    "dora,pw-dora,dora@acme.example\n"  # 6 wrong field count
    "\n"  # 7 blank: fine
    "emil,,emil@acme.example,Emil\n"  # 8 good, no password
    "old,pw-old,taken@acme.example,\n"  # 9 already in the session
)


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Acme", "acme.example", example_profile(), name="acme")
    yield s
    s.close()


@pytest.fixture
def secrets(store: SessionStore) -> SecretStore:
    return SecretStore(store.name)


def test_mixed_file_reports_every_bad_line_and_imports_nothing(
    store: SessionStore, secrets: SecretStore
) -> None:
    store.add_mailboxes([("old", "taken@acme.example", "")])
    with pytest.raises(MailboxImportError) as caught:
        import_mailboxes(store, secrets, MIXED.encode())
    problems = {p.line: p.reason for p in caught.value.problems}
    assert sorted(problems) == [3, 4, 5, 6, 9]
    assert "source login is empty" in problems[3]
    assert "'bert-at-acme.example' is not an email address" in problems[4]
    assert "ANNA@acme.example is already on line 2" in problems[5]
    assert "3 fields where the header has 4" in problems[6]
    assert "taken@acme.example is already in the mailbox list" in problems[9]
    assert str(caught.value.problems[0]).startswith("line 3: ")
    assert [m.target_address for m in store.mailboxes()] == ["taken@acme.example"]
    assert secrets.get(source_password_key("anna")) is None


def test_good_file_goes_in_whole_with_passwords_in_the_keyring_only(
    store: SessionStore, secrets: SecretStore, tmp_path: Path
) -> None:
    good = "\n".join(MIXED.splitlines()[i] for i in (0, 1, 7)) + "\n"
    csv_file = tmp_path / "mailboxes.csv"
    csv_file.write_bytes(codecs.BOM_UTF8 + good.replace("\n", "\r\n").encode())
    result = import_mailboxes(store, secrets, csv_file)
    assert result.passwords == 1
    assert [(m.source_login, m.target_address, m.display_name) for m in store.mailboxes()] == [
        ("anna", "anna@acme.example", "Anna Berg"),
        ("emil", "emil@acme.example", "Emil"),
    ]
    assert secrets.get(source_password_key("anna")) == "pw-anna"
    assert secrets.get(source_password_key("emil")) is None
    store.close()
    raw = b"".join(f.read_bytes() for f in store.path.parent.glob(f"{store.path.name}*"))
    assert b"pw-anna" not in raw
    assert b"anna@acme.example" in raw  # the file was the right one to look at
    log = [r.message for r in read_records(store.path)]
    assert any("2 mailbox(es) imported" in m for m in log)
    assert b"pw-anna" not in b"".join(p.read_bytes() for p in log_files(store.path))


def test_microsoft_365_columns(store: SessionStore, secrets: SecretStore) -> None:
    data = (
        "EmailAddress,UserName,Password\n"
        "terry.adams@acme.example,terry.adams,1091990\n"
        "ann.beebe@acme.example,ann.beebe,2111991\n"
    )
    result = import_mailboxes(store, secrets, data.encode())
    assert result.layout == M365_LAYOUT
    assert [(m.source_login, m.target_address) for m in store.mailboxes()] == [
        ("terry.adams", "terry.adams@acme.example"),
        ("ann.beebe", "ann.beebe@acme.example"),
    ]
    assert secrets.get(source_password_key("ann.beebe")) == "2111991"


def test_unknown_column_is_named_on_line_one() -> None:
    parsed = parse_mailbox_csv("login,target,phone\nanna,anna@acme.example,123\n")
    assert not parsed.ok and not parsed.rows
    assert [str(p) for p in parsed.problems] == [
        "line 1: unknown column 'phone'; the columns are source_login, source_password, "
        "target_address, display_name (or Microsoft 365's EmailAddress, UserName, Password)"
    ]


def test_trailing_separator_and_mixed_spellings() -> None:
    parsed = parse_mailbox_csv(
        "UserName,EmailAddress,Display Name,\nanna,anna@acme.example,Anna,\n"
    )
    assert parsed.ok, parsed.problems
    assert (parsed.rows[0].source_login, parsed.rows[0].display_name) == ("anna", "Anna")


def test_header_is_required_and_rows_are_numbered_after_blank_lines() -> None:
    parsed = parse_mailbox_csv("\nanna,anna@acme.example\n")
    assert [p.line for p in parsed.problems] == [2]
    assert "first line must name the columns" in parsed.problems[0].reason

    parsed = parse_mailbox_csv('login;target;name\n\n"anna";"anna@acme.example";"A\nB"\nx;bad;\n')
    assert [(r.line, r.display_name) for r in parsed.rows] == [(3, "A B")]
    assert [p.line for p in parsed.problems] == [5]  # the quoted name spans lines 3 and 4


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (codecs.BOM_UTF8 + b"\r\n  \n", "the file is empty"),
        (b"login,target\n", "header but no mailboxes"),
        (b"login,target\nj\xe9r\xf4me,jerome@acme.example\n", "line 2: byte 0xe9 is not UTF-8"),
        (b"login,login,target\n", "line 1: column 'login' appears twice"),
        (b"login,name\nanna,Anna\n", "line 1: the header has no target_address column"),
    ],
)
def test_file_level_problems(data: bytes, expected: str) -> None:
    parsed = parse_mailbox_csv(data)
    assert not parsed.ok
    assert expected in "; ".join(str(p) for p in parsed.problems)


def test_utf16_file_from_excel_is_read() -> None:
    data = "login\ttarget\tname\nmüller\tmueller@acme.example\tJörg Müller\n"
    parsed = parse_mailbox_csv(codecs.BOM_UTF16_LE + data.encode("utf-16-le"))
    assert parsed.ok
    assert parsed.rows[0].display_name == "Jörg Müller"


def test_missing_file_is_a_problem(
    store: SessionStore, secrets: SecretStore, tmp_path: Path
) -> None:
    with pytest.raises(MailboxImportError) as caught:
        import_mailboxes(store, secrets, tmp_path / "nope.csv")
    assert "there is no file at" in str(caught.value.problems[0])


def test_add_edit_remove_keep_the_keyring_in_step(
    store: SessionStore, secrets: SecretStore
) -> None:
    first = add_mailbox(store, secrets, " anna ", "Anna@acme.example", " Anna  Berg ", "pw1")
    assert (first.source_login, first.display_name) == ("anna", "Anna Berg")
    with pytest.raises(ValueError, match="already in the mailbox list"):
        add_mailbox(store, secrets, "other", "anna@ACME.example")
    with pytest.raises(ValueError, match="not an email address"):
        add_mailbox(store, secrets, "other", "other")
    with pytest.raises(ValueError, match="source login is empty"):
        add_mailbox(store, secrets, "  ", "x@acme.example")

    # Renaming the login without a new password carries the stored one along.
    edited = edit_mailbox(store, secrets, first.id, "anna.berg", "anna@acme.example", "Anna")
    assert edited.source_login == "anna.berg"
    assert secrets.get(source_password_key("anna.berg")) == "pw1"
    assert secrets.get(source_password_key("anna")) is None
    edit_mailbox(store, secrets, first.id, "anna.berg", "anna@acme.example", "Anna", "pw2")
    assert secrets.get(source_password_key("anna.berg")) == "pw2"

    remove_mailbox(store, secrets, first.id)
    assert store.mailboxes() == []
    assert secrets.get(source_password_key("anna.berg")) is None


def test_server_secrets_per_mode(store: SessionStore, secrets: SecretStore) -> None:
    secrets.set(source_password_key("anna"), "own")
    master = ImapServerSettings("imap.acme.example", auth=AuthMode.MASTER, master_user="admin")
    save_server_secret(store, secrets, master, "master-pw")
    assert secrets.get(master_secret_key("admin")) == "master-pw"
    assert master_secret_key("admin") in store.setting("secrets.keys")
    assert mailbox_secret(secrets, master, "anna") == "master-pw"

    oauth = ImapServerSettings("imap.acme.example", auth=AuthMode.XOAUTH2)
    save_server_secret(store, secrets, oauth, "tok")
    assert secrets.get(SHARED_TOKEN_KEY) == "tok"
    assert mailbox_secret(secrets, oauth, "anna") == "own"
    assert mailbox_secret(secrets, oauth, "bert") == "tok"
    plain = ImapServerSettings("imap.acme.example")
    assert mailbox_secret(secrets, plain, "bert") is None


def test_cli_import_all_or_none_then_list(store: SessionStore, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from wizard.cli import main

    name = store.name
    store.close()
    bad = tmp_path / "bad.csv"
    bad.write_text(MIXED)
    assert main(["mailboxes", "import", name, str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: line 3: the source login is empty" in err
    assert "nothing imported" in err

    good = tmp_path / "good.csv"
    good.write_text("EmailAddress,UserName,Password\nanna@acme.example,anna,pw-anna\n")
    assert main(["mailboxes", "import", name, str(good)]) == 0
    assert "Imported 1 mailbox(es)" in capsys.readouterr().out
    assert main(["mailboxes", "list", name, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["mailboxes"]
    assert listed == [
        {
            "source_login": "anna",
            "target_address": "anna@acme.example",
            "display_name": "",
            "password_stored": True,
        }
    ]
