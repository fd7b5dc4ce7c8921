"""Fuzz-style: seeded junk on every input surface (CSV import, URLs, domain names, session files).

Each case must end with a non-zero exit and a message, no traceback, and the files as they were;
and no junk may reach the network: name look-ups and connections off 127.0.0.0/8 fail the test.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import junk
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.endpoint import parse_endpoint
from wizard.forms import check_domain
from wizard.profile import example_profile
from wizard.session import create_session, sessions_dir


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Any look-up or connection beyond this machine is a bug here: refuse it and remember it."""
    tried: list[str] = []
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host) not in ("127.0.0.1", "localhost", "::1"):
            tried.append(f"look-up {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "refused by the test")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else str(address)
        if isinstance(address, tuple) and not str(host).startswith(("127.", "::1")):
            tried.append(f"connect {address!r}")
            raise OSError("refused by the test")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    yield tried
    assert tried == [], tried


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(
    argv: list[str], capsys: pytest.CaptureFixture[str], case: str, codes: set[int] | None = None
) -> str:
    """Run the command; it must end with a non-zero exit and an `onboard:` message."""
    try:
        code = main(argv)
    except BaseException as exc:  # noqa: BLE001 - a traceback is the failure being looked for
        pytest.fail(f"{case}: {argv!r} raised {exc!r}")
    out, err = capsys.readouterr()
    assert code != Exit.OK, f"{case}: {argv!r} was accepted"
    if codes is not None:
        assert code in codes, f"{case}: exit {code} for {argv!r}: {err}"
    assert "onboard:" in err and "Traceback" not in err, f"{case}: {err!r}"
    assert "\x1b" not in out + err and "\u202e" not in out + err, f"{case}: raw escape echoed"
    return err


def cases(make: Callable[[random.Random], Any]) -> list[tuple[str, Any]]:
    rng = random.Random(junk.SEED)
    return [(f"seed {junk.SEED} case {n}", make(rng)) for n in range(junk.COUNT)]


def test_csv_imports_of_junk_are_refused_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = create_session("Fuzz Csv", "fuzz.example", example_profile())
    name, path = store.name, store.path
    store.add_mailboxes([("kept", "kept@fuzz.example", "Kept")])
    store.close()
    before = digest(path)
    for case, data in cases(junk.bad_csv):
        csv_file = tmp_path / "junk.csv"
        csv_file.write_bytes(data)
        refused(["mailboxes", "import", name, str(csv_file)], capsys, case, {Exit.USAGE})
        assert digest(path) == before, f"{case}: the session file changed"
        assert csv_file.read_bytes() == data


def test_urls_of_junk_are_refused_before_any_connection(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONBOARD_SOURCE_PASSWORD", "fuzz-source-pw")
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", "fuzz-dest-pw")
    ledgers = sessions_dir().parent
    before = sorted(p.name for p in ledgers.rglob("*"))
    for case, url in cases(junk.bad_url):
        with pytest.raises(ValueError):  # refused by the parser: nothing can go out
            parse_endpoint(url)
        refused(["check", "imap", "--", url], capsys, case, {Exit.USAGE})
        refused(["copy", f"--source={url}", "--dest=ews://a@127.0.0.1"], capsys, case)
        refused(["copy", "--source=imaps://a@127.0.0.1", f"--dest={url}"], capsys, case)
        secret = url.partition("://")[2].rpartition("@")[0].partition(":")[2]
        err = refused(["check", "imap", "--", url], capsys, case)
        if len(secret) > 3:
            assert secret not in err, f"{case}: the password in the URL was echoed"
    assert sorted(p.name for p in ledgers.rglob("*")) == before  # no ledger, no session made


def test_domain_names_of_junk_are_refused_before_any_query(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dns:
        dns.bind(("127.0.0.1", 0))
        dns.setblocking(False)
        resolver = f"127.0.0.1:{dns.getsockname()[1]}"
        for case, domain in cases(junk.bad_domain):
            with pytest.raises(ValueError):
                check_domain(domain)
            refused(
                ["check", "dns", "--resolver", resolver, "--timeout", "0.3", "--", domain],
                capsys,
                case,
                {Exit.USAGE},
            )
            refused(
                ["new", "Fuzz Co", f"--domain={domain}", "--no-open"], capsys, case, {Exit.USAGE}
            )
            refused(
                ["check", "ews", f"--autodiscover=anna@{domain}", "--resolver", resolver],
                capsys,
                case,
                {Exit.USAGE},
            )
        with contextlib.suppress(BlockingIOError):
            pytest.fail(f"a DNS question went out: {dns.recv(4096)!r}")
    assert not list(sessions_dir().glob("*.onboard"))


def test_damaged_session_files_are_refused_and_never_rewritten(
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = create_session("Fuzz Good", "fuzz.example", example_profile())
    store.add_mailboxes([("anna", "anna@fuzz.example", "Anna")])
    good_path = store.path
    store.close()
    good = good_path.read_bytes()
    path = sessions_dir() / "fuzzed.onboard"
    damaged = {Exit.DAMAGED, Exit.INCOMPLETE, Exit.EMPTY}
    for case, data in cases(lambda rng: junk.damaged_session(rng, good)):
        path.write_bytes(data)
        path.chmod(0o600)
        for verb in (
            ["report", "fuzzed"],
            ["mailboxes", "list", "fuzzed"],
            ["copy", "fuzzed", "--dry-run"],
            ["verify", "fuzzed"],
            ["delete", "fuzzed", "--yes"],
        ):
            refused(verb, capsys, case, damaged)
            assert path.read_bytes() == data, f"{case}: {verb[0]} changed the file"
        for extra in path.parent.glob(path.name + "?*"):
            extra.unlink()
    assert main(["delete", "fuzzed", "--force", "--yes"]) == Exit.OK
    assert not path.exists() and good_path.read_bytes() == good
