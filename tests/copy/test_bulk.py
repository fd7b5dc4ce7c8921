"""The bulk ad-hoc form: `onboard copy|verify --source URL --dest URL --mailboxes FILE.csv` copies
and checks a whole list of mailboxes in one process, as a support engineer's script would run it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.servers import ews
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.copy.bulk import MailboxListRefused, read_mailbox_list, with_passwords
from wizard.copy.cli import DEST_ENV, SOURCE_ENV
from wizard.copy.holds import take_hold
from wizard.endpoint import parse_server
from wizard.imap.mailbox_list import parse_mailbox_csv
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.store import SessionStore

from .corpus import bodies, message, populate, snapshot
from .test_imap_to_imap import EXPECTED


def servers(dovecots) -> list[str]:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    return [
        "--source",
        f"imap://{src.host}:{src.port}?tls=none",
        "--dest",
        f"imap://{dst.host}:{dst.port}?tls=none",
    ]


def seeded_pairs(src, prefix: str, tag: str, *, messages: int = 1, first: int = 0):  # type: ignore[no-untyped-def]
    """Two (source login, target address) pairs, each source INBOX holding ``messages``."""
    pairs = [(f"{prefix}{i}{tag}", f"{prefix}{i}-{tag}@bulk.example") for i in range(2)]
    for n, (login, _address) in enumerate(pairs):
        client = src.client(login)
        for i in range(messages):
            client.append("INBOX", message(first + 10 * n + i))
    return pairs


def write_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_three_mailboxes_in_one_run_exact_then_a_rerun_copies_nothing(
    dovecots, users, tmp_path: Path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    tag = users[0]
    logins = [f"b{i}{tag}" for i in range(3)]
    addresses = [f"user{i}-{tag}@bulk.example" for i in range(3)]
    other_login = f"t{tag}"  # mailbox 2's target login is not its address
    for login in logins:
        populate(src.client(login))
    listing = write_csv(
        tmp_path / "customer.csv",
        [
            "source_login,source_password,target_address,target_login,display_name",
            f"{logins[0]},{src.password},{addresses[0]},,Anna",
            f"{logins[1]},{src.password},{addresses[1]},,Bert",
            f"{logins[2]},{src.password},{addresses[2]},{other_login},Carla",
        ],
    )
    monkeypatch.setenv(DEST_ENV, dst.password)  # the targets' one password, from the environment
    monkeypatch.delenv(SOURCE_ENV, raising=False)
    ledger = tmp_path / "customer.onboard"
    args = [*servers(dovecots), "--mailboxes", str(listing), "--ledger", str(ledger)]

    assert main(["copy", *args, "--concurrency", "3"]) == Exit.OK
    out, err = capsys.readouterr()

    targets = [dst.client(addresses[0]), dst.client(addresses[1]), dst.client(other_login)]
    for login, target in zip(logins, targets, strict=True):
        source = src.client(login)
        for folder, target_folder in EXPECTED.items():
            assert snapshot(target, target_folder) == snapshot(source, folder), (login, folder)
    assert sum(bodies(dst.client(addresses[2]), "INBOX").values()) == 0  # not the address
    # The table on stdout: one row per mailbox, then the totals; progress went to stderr.
    rows = {line.split()[0]: line for line in out.splitlines()[1:4]}
    assert set(rows) == set(addresses)
    for address, login in zip(addresses, logins, strict=True):
        assert login in rows[address] and rows[address].split()[2] == "29"
        assert rows[address].rstrip().endswith("ok")
    assert "3 mailboxes: 87 messages copied" in out and "all ok" in out
    assert out.splitlines()[0].split()[:6] == [
        "MAILBOX",
        "LOGIN",
        "COPIED",
        "ALREADY",
        "SKIPPED",
        "FAILED",
    ]
    assert all(f"{address}: " in err for address in addresses)
    assert str(ledger) in err and "3 mailboxes" in err
    assert src.password not in out + err

    assert main(["copy", *args, "--json"]) == Exit.OK
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["ok"] and [m["mailbox"] for m in data["mailboxes"]] == addresses
    for entry, login in zip(data["mailboxes"], logins, strict=True):
        assert (entry["copied"], entry["already"], entry["failed"]) == (0, 29, 0)
        assert entry["source_login"] == login and entry["state"] == "done"
    assert all(f"{address}: " in err for address in addresses)  # progress still on stderr
    assert sum(bodies(targets[0], "INBOX").values()) == 14  # nothing doubled


def test_a_bad_row_or_a_missing_password_is_refused_before_anything_is_copied(
    dovecots, users, tmp_path: Path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    tag = users[0]
    populate(src.client(f"a{tag}"))
    monkeypatch.delenv(SOURCE_ENV, raising=False)
    monkeypatch.delenv(DEST_ENV, raising=False)
    ledger = tmp_path / "ledger.onboard"
    malformed = write_csv(
        tmp_path / "bad.csv",
        [
            "source_login,source_password,target_address",
            f"a{tag},{src.password},a-{tag}@bulk.example",
            f"b{tag},{src.password},not-an-address",
            f"c{tag},{src.password}",
        ],
    )
    args = [*servers(dovecots), "--ledger", str(ledger)]

    assert main(["copy", *args, "--mailboxes", str(malformed)]) == Exit.USAGE
    err = capsys.readouterr().err
    assert f"{malformed}: line 3: " in err and "target address" in err
    assert f"{malformed}: line 4: 2 fields where the header has 3" in err
    assert "2 problems found, nothing copied" in err

    no_password = write_csv(
        tmp_path / "nopw.csv",
        [
            "source_login,source_password,target_address,target_password",
            f"a{tag},{src.password},a-{tag}@bulk.example,{dst.password}",
            f"b{tag},,b-{tag}@bulk.example,{dst.password}",
        ],
    )
    assert main(["copy", *args, "--mailboxes", str(no_password)]) == Exit.USAGE
    err = capsys.readouterr().err
    assert f"line 3: b-{tag}@bulk.example: no source password for b{tag}" in err
    assert SOURCE_ENV in err and src.password not in err

    assert not ledger.exists()
    assert sum(bodies(dst.client(f"a-{tag}@bulk.example"), "INBOX").values()) == 0


def test_urls_with_a_user_and_mixed_forms_are_refused(dovecots, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    listing = write_csv(tmp_path / "l.csv", ["login,target", "anna,anna@bulk.example"])
    with_user = ["--source", src.url("anna"), "--dest", f"imap://{dst.host}:{dst.port}"]
    assert main(["copy", *with_user, "--mailboxes", str(listing)]) == Exit.USAGE
    assert "--source: " in capsys.readouterr().err
    assert main(["verify", "acme", *servers(dovecots), "--mailboxes", str(listing)]) == Exit.USAGE
    assert main(["copy", "--mailboxes", str(listing)]) == Exit.USAGE
    only = ["--mailboxes", str(listing), "--mailbox", "nobody"]
    assert main(["copy", *servers(dovecots), *only]) == Exit.USAGE
    assert "no mailbox 'nobody' in the list" in capsys.readouterr().err
    ews_login = write_csv(
        tmp_path / "e.csv", ["login,target,target_login", "anna,anna@bulk.example,a"]
    )
    with pytest.raises(MailboxListRefused) as refused:
        read_mailbox_list(ews_login, parse_server("ews://127.0.0.1:8080?tls=none"))
    assert "line 2: anna@bulk.example: target_login is for IMAP targets" in str(
        refused.value.problems[0]
    )


def test_passwords_come_from_the_file_then_the_keyring_then_the_environment(
    tmp_path: Path,
) -> None:
    listing = write_csv(
        tmp_path / "pw.csv",
        [
            "source_login,source_password,target_address,target_login,target_password",
            "anna,from-file,anna@bulk.example,,from-file-too",
            "bert,,bert@bulk.example,bert-login,",
            "carl,,carl@bulk.example,,",
        ],
    )
    secrets = SecretStore("adhoc")
    secrets.set(source_password_key("bert"), "bert-from-keyring")
    secrets.set(source_password_key("anna"), "anna-from-keyring")  # the file's wins
    secrets.set(target_password_key("bert-login"), "bert-target-from-keyring")
    rows = read_mailbox_list(listing, parse_server("imap://127.0.0.1:143"))
    environ = {SOURCE_ENV: "source-from-env", DEST_ENV: "dest-from-env"}

    found = with_passwords(rows, environ, secrets)

    assert [(r.password, r.target_password) for r in found] == [
        ("from-file", "from-file-too"),
        ("bert-from-keyring", "bert-target-from-keyring"),
        ("source-from-env", "dest-from-env"),
    ]
    assert "from-file" not in repr(found)
    with pytest.raises(MailboxListRefused) as refused:
        with_passwords(rows, {SOURCE_ENV: "source-from-env"}, secrets)
    assert [str(p) for p in refused.value.problems] == [
        "line 4: carl@bulk.example: no target password for carl@bulk.example (none in the "
        "target_password column, none in the keyring as target:carl@bulk.example, and "
        f"{DEST_ENV} is not set)"
    ]


def test_bulk_verify_reports_a_missing_message_in_one_mailbox(
    dovecots, users, tmp_path: Path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    tag = users[0]
    pairs = seeded_pairs(src, "v", tag, messages=4, first=1000)
    addresses = [address for _login, address in pairs]
    listing = write_csv(tmp_path / "v.csv", ["login,target", *(f"{s},{d}" for s, d in pairs)])
    monkeypatch.setenv(SOURCE_ENV, src.password)
    monkeypatch.setenv(DEST_ENV, dst.password)
    args = [*servers(dovecots), "--mailboxes", str(listing)]  # the default ledger this time
    assert main(["copy", *args]) == Exit.OK
    capsys.readouterr()
    assert main(["verify", *args, "--json"]) == Exit.OK
    assert json.loads(capsys.readouterr().out)["ok"]

    target = dst.client(addresses[1])
    target.select_folder("INBOX")
    target.delete_messages(target.search(["HEADER", "Message-ID", "<msg-1012@old.example>"]))
    target.expunge()

    assert main(["verify", *args, "--json"]) == Exit.PROBLEMS
    data = json.loads(capsys.readouterr().out)
    checks = {m["mailbox"]: m for m in data["mailboxes"]}
    assert set(checks) == set(addresses)
    inbox = {
        m: next(f for f in c["folders"] if f["source_folder"] == "INBOX") for m, c in checks.items()
    }
    assert inbox[addresses[0]]["missing_count"] == 0
    assert inbox[addresses[1]]["missing"] == ["<msg-1012@old.example>"]
    assert "1 of 2 mailboxes need attention" in data["summary"]

    assert main(["verify", *args]) == Exit.PROBLEMS
    table = capsys.readouterr().out
    assert f"{addresses[1]} INBOX: missing <msg-1012@old.example>" in table
    assert addresses[0] in table


def test_a_mailbox_another_copy_holds_is_left_alone_and_the_rest_copied(
    dovecots, users, tmp_path: Path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    tag = users[0]
    pairs = seeded_pairs(src, "h", tag, first=2000)
    listing = write_csv(tmp_path / "h.csv", ["login,target", *(f"{s},{d}" for s, d in pairs)])
    monkeypatch.setenv(SOURCE_ENV, src.password)
    monkeypatch.setenv(DEST_ENV, dst.password)
    ledger = tmp_path / "held.onboard"
    args = [*servers(dovecots), "--mailboxes", str(listing), "--ledger", str(ledger)]
    assert main(["copy", *args, "--dry-run"]) == Exit.OK  # makes the ledger, copies nothing
    capsys.readouterr()
    store = SessionStore.open(ledger, lock="shared")
    try:
        take_hold(store, pairs[0][1]).release()  # makes the table
        with store.transaction() as tx:  # a live copy on another machine holds the first one
            tx.execute(
                "INSERT INTO copy_holds (mailbox, token, host, pid, user, since, heartbeat) "
                "VALUES (?, 'x', 'laptop-2', 4242, 'ops', '2026-01-01T10:00:00+00:00', ?)",
                (pairs[0][1], time.time()),
            )
    finally:
        store.close()

    assert main(["copy", *args]) == Exit.LOCKED
    out = capsys.readouterr().out
    assert "another copy holds it (ops@laptop-2 (pid 4242)" in out
    assert sum(bodies(dst.client(pairs[0][1]), "INBOX").values()) == 0
    assert sum(bodies(dst.client(pairs[1][1]), "INBOX").values()) == 1


def test_bulk_copy_into_the_ews_stand_in(dovecots, users, ews_sandbox, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    src, _dst = dovecots
    tag = users[0]
    ews_sandbox.add_mailbox("bert@example.test", "bert-Passw0rd", "Bert")
    logins = [login for login, _address in seeded_pairs(src, "e", tag, messages=3, first=3000)]
    listing = write_csv(
        tmp_path / "ews.csv",
        [
            "source_login,source_password,target_address,target_password",
            f"{logins[0]},{src.password},{ews.USER},{ews.PASSWORD}",
            f"{logins[1]},{src.password},bert@example.test,bert-Passw0rd",
        ],
    )
    args = [
        "--source",
        f"imap://{src.host}:{src.port}?tls=none",
        "--dest",
        f"ews://{ews_sandbox.host}:{ews_sandbox.port}?tls=none",
        "--mailboxes",
        str(listing),
        "--ledger",
        str(tmp_path / "ews.onboard"),
    ]
    assert main(["copy", *args, "--json"]) == Exit.OK
    data = json.loads(capsys.readouterr().out)
    assert [m["copied"] for m in data["mailboxes"]] == [3, 3]
    for login, address in zip(logins, (ews.USER, "bert@example.test"), strict=True):
        stored = sorted(item.mime for item in ews_sandbox.mailbox(address).items_in("Inbox"))
        source = src.client(login)
        source.select_folder("INBOX", readonly=True)
        raw = source.fetch(source.search("ALL"), ["BODY.PEEK[]"])
        assert stored == sorted(item[b"BODY[]"] for item in raw.values())
    assert main(["verify", *args]) == Exit.OK


def test_one_mailbox_failing_makes_the_run_fail_and_the_others_are_copied(
    dovecots, users, tmp_path: Path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    tag = users[0]
    pairs = seeded_pairs(src, "f", tag, first=4000)
    listing = write_csv(
        tmp_path / "f.csv",
        [
            "login,password,target",
            f"{pairs[0][0]},{src.password},{pairs[0][1]}",
            f"{pairs[1][0]},Wrong-Passw0rd,{pairs[1][1]}",  # the source refuses this login
        ],
    )
    monkeypatch.setenv(DEST_ENV, dst.password)
    args = [
        *servers(dovecots),
        "--mailboxes",
        str(listing),
        "--ledger",
        str(tmp_path / "f.onboard"),
    ]

    assert main(["copy", *args]) == Exit.UNREACHABLE
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line for line in out.splitlines()[1:3]}
    assert rows[pairs[0][1]].rstrip().endswith("ok")
    assert "FAILED: " in rows[pairs[1][1]]
    assert "1 ok, 1 to look at" in out
    assert "Wrong-Passw0rd" not in out + err
    assert sum(bodies(dst.client(pairs[0][1]), "INBOX").values()) == 1


def test_the_list_takes_step_3s_layouts_and_step_3_still_refuses_the_bulk_columns(
    tmp_path: Path,
) -> None:
    m365 = write_csv(
        tmp_path / "m365.csv",
        ["EmailAddress,UserName,Password", "anna@bulk.example,anna.alt,From-Csv1"],
    )
    (row,) = read_mailbox_list(m365, parse_server("imaps://127.0.0.1"))
    assert (row.source_login, row.target_address, row.password) == (
        "anna.alt",
        "anna@bulk.example",
        "From-Csv1",
    )
    assert row.target_login == "" and row.target_password == ""
    step_3 = parse_mailbox_csv("login,target,target_login\nanna,anna@bulk.example,a\n")
    assert not step_3.ok and "unknown column 'target_login'" in str(step_3.problems[0])
