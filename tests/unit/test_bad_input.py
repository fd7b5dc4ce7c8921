"""Bad input is a clear message and an exit code, never a traceback, a query sent or a file changed."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.cli import main
from wizard.cliutil import Exit
from wizard.dns.resolver import LookupState, NameServer, query_server
from wizard.forms import check_domain, check_plain, shown
from wizard.imap.mailbox_list import parse_mailbox_csv
from wizard.profile import example_profile
from wizard.session import create_session, session_path

BAD_DOMAINS = [
    "x" * 300 + ".example",  # a label over 63
    ".".join(["a" * 60] * 5),  # a name over 253
    '"; rm -rf"',
    "",
    ".",
    "a..example",
    "-acme.example",
    "acme.example\x1b[2J",
    "acme.\u202eelpmaxe",
    "acme",
]


@contextlib.contextmanager
def listening_dns() -> Iterator[tuple[str, list[bytes]]]:
    """A UDP port on 127.0.0.1 that only notes what reaches it (nothing should)."""
    received: list[bytes] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        yield f"127.0.0.1:{sock.getsockname()[1]}", received
        with contextlib.suppress(BlockingIOError):
            while True:
                received.append(sock.recv(4096))


@pytest.mark.parametrize("domain", BAD_DOMAINS)
def test_check_dns_refuses_a_bad_name_before_any_query(
    domain: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with listening_dns() as (address, received):
        code = main(["check", "dns", "--resolver", address, "--timeout", "0.5", "--", domain])
    out, err = capsys.readouterr()
    assert code == Exit.USAGE
    assert received == []  # no question went out
    assert "onboard: " in err and ("domain name" in err or "is empty" in err)
    assert "\x1b" not in err + out and "\u202e" not in err + out  # escapes are shown, not sent
    assert "Traceback" not in err


def test_domain_names_accepted_and_their_ascii_form() -> None:
    assert check_domain("Acme.Example.") == "acme.example"
    assert check_domain("müller.example") == "xn--mller-kva.example"
    assert check_domain("пример.рф") == "xn--e1afmkfd.xn--p1ai"
    with pytest.raises(ValueError, match="300 characters long, at most 63"):
        check_domain("x" * 300 + ".example")
    with pytest.raises(ValueError, match="at most 253"):
        check_domain(".".join(["a" * 60] * 5))


def test_a_name_dns_cannot_carry_is_an_error_lookup_not_a_traceback() -> None:
    with listening_dns() as (address, received):
        lookup = query_server(NameServer.parse(address), "x" * 300 + ".example", "MX")
    assert lookup.state is LookupState.ERROR and "not a valid name" in lookup.detail
    assert received == []


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "imap", "imaps://anna:s3cr3t-pw@127.0.0.1"],
        ["copy", "--source", "imaps://anna:s3cr3t-pw@127.0.0.1", "--dest", "ews://a@127.0.0.1"],
        ["copy", "--source", "imaps://anna@127.0.0.1", "--dest", "ews://a:s3cr3t-pw@127.0.0.1"],
        [
            "check",
            "ews",
            "https://anna:s3cr3t-pw@127.0.0.1/EWS/Exchange.asmx",
            "--mailbox",
            "a@b.example",
        ],
    ],
)
def test_a_password_in_a_url_is_refused_without_echoing_it(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == Exit.USAGE
    out, err = capsys.readouterr()
    assert "holds a password" in err
    assert "ONBOARD_SOURCE_PASSWORD" in err and "ONBOARD_DEST_PASSWORD" in err
    assert "s3cr3t-pw" not in out + err


@pytest.mark.parametrize(
    "text", ["anna\x1b]0;owned\x07", "anna\x00", "an\u202ena", "anna\u2066", "anna\r", "a\u2028b"]
)
def test_control_and_bidi_characters_are_refused_and_shown_escaped(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_plain(text, "source login")
    message = str(caught.value)
    assert "source login" in message and "U+" in message
    assert all(c.isprintable() for c in message)


def test_logins_names_and_customers_with_control_or_bidi_characters_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parsed = parse_mailbox_csv(
        "source_login,target_address,display_name\n"
        "anna\x1b[2J,anna@acme.example,Anna\n"
        "bert,bert@acme.example,Bert \u202egnp.exe\n"
        "carl,carl\x07@acme.example,Carl\n"
    )
    assert [p.line for p in parsed.problems] == [2, 3, 4]
    assert "source login" in parsed.problems[0].reason
    assert (
        "display name" in parsed.problems[1].reason
        and "text-direction" in parsed.problems[1].reason
    )
    assert "target address" in parsed.problems[2].reason

    assert main(["new", "Acme\u202e Corp", "--domain", "acme.example", "--no-open"]) == Exit.USAGE
    assert "customer name" in capsys.readouterr().err
    assert not list(session_path("x").parent.glob("*.onboard"))


def test_escapes_in_what_the_operator_typed_are_never_echoed_raw(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["resume", "evil\x1b[2J\x1b]0;title\x07"]) == Exit.NOT_FOUND
    err = capsys.readouterr().err
    assert "there is no session named" in err
    assert "\x1b" not in err and "\x07" not in err


def test_an_unclosed_quote_is_reported_where_it_opens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "source_login,target_address\n"
        "anna,anna@acme.example\n"
        '"bert,bert@acme.example\n'
        "carl,carl@acme.example\n"
        "dora,dora@acme.example\n"
    )
    parsed = parse_mailbox_csv(text)
    assert [(p.line, p.reason) for p in parsed.problems] == [
        (3, 'a quote (") opened on this line is never closed; close it or remove it')
    ]
    store = create_session("Quote Co", "quote.example", example_profile())
    name, path = store.name, store.path
    store.close()
    before = path.read_bytes()
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(text)
    assert main(["mailboxes", "import", name, str(csv_file)]) == Exit.USAGE
    assert "line 3: a quote" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_shown_quotes_and_cuts() -> None:
    assert shown("a\x1bb") == "'a\\u001bb'"
    assert shown("x" * 100, 10) == "'" + "x" * 10 + "…'"
