"""EWS: plain http with a password is warned about as plain IMAP is, and a pinned certificate past
its date or for another name is accepted with a warning in the check and its evidence."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import wizard.devservers.ews.server as sandbox_server
from tests.servers import ews
from tests.support.certificates import make_certificate
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.devservers.ews import EwsSandbox
from wizard.devservers.ews.tls import SelfSignedCertificate
from wizard.exchange.settings import Access, AuthType, ExchangeSettings
from wizard.exchange.target_mailboxes import check_mailboxes, save_checks
from wizard.profile import example_profile
from wizard.session import create_session


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["check", "ews", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_plain_http_with_a_password_is_warned_about(
    ews_sandbox: EwsSandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ews_sandbox.url.startswith("http://")
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", ews.PASSWORD)
    code, _, err = run(capsys, ews_sandbox.url, "--mailbox", ews.USER, "--auth", "basic")
    assert code == Exit.OK
    assert "WARNING: plain-text connection to 127.0.0.1" in err
    assert "the password crosses the network unencrypted" in err
    assert err.count("WARNING") == 1

    code, out, _ = run(capsys, ews_sandbox.url, "--mailbox", ews.USER, "--auth", "basic", "--json")
    assert "unencrypted" in json.loads(out)["warnings"][0]


def test_a_pinned_stale_certificate_is_accepted_with_a_warning(
    ews_sandbox_factory,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = dt.datetime.now(dt.UTC)

    def stale(directory: Path, host: str = "127.0.0.1") -> SelfSignedCertificate:
        cert, key, fingerprint, _ = make_certificate(
            directory,
            names=("ews.old-host.example",),
            not_before=now - dt.timedelta(days=400),
            not_after=now - dt.timedelta(days=2),
        )
        return SelfSignedCertificate(cert, key, fingerprint)

    monkeypatch.setattr(sandbox_server, "make_self_signed", stale)
    sandbox = ews_sandbox_factory(tls=True, storage_dir=tmp_path / "ews")
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", ews.PASSWORD)
    base = [sandbox.url, "--mailbox", ews.USER, "--auth", "basic", "--pin", sandbox.fingerprint]
    code, out, err = run(capsys, *base)
    assert code == Exit.OK and "exists" in out
    assert "WARNING: the pinned certificate of 127.0.0.1 expired on" in err
    assert "made for ews.old-host.example" in err

    settings = ExchangeSettings(
        sandbox.url, auth=AuthType.BASIC, access=Access.DELEGATE, pin=sandbox.fingerprint or ""
    )
    store = create_session("Stale Co", "stale.example", example_profile())
    checks = check_mailboxes(settings, [ews.USER], lambda _a: ews.PASSWORD)
    evidence = save_checks(store, settings, checks)
    assert "WARNING: the pinned certificate" in evidence.summary
    assert len(evidence.data["warnings"]) == 2
    store.close()
