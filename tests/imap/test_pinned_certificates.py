"""A pinned certificate is the server's identity: past its date or made for another name it is
still accepted, and the check and its evidence say so as a warning."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import tests.servers.dovecot as dovecot_module
from tests.servers.dovecot import DovecotFactory, DovecotServer
from tests.support.certificates import make_certificate
from wizard.cli import main
from wizard.imap.probe import probe_mailbox, save_result
from wizard.imap.settings import ImapServerSettings
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.tls import pinned_certificate_warnings

NOW = dt.datetime.now(dt.UTC)


def test_warnings_for_dates_and_names(tmp_path: Path) -> None:
    *_, good = make_certificate(tmp_path / "a", names=("imap.acme.example",))
    assert pinned_certificate_warnings(good, "imap.acme.example") == ()
    *_, wild = make_certificate(tmp_path / "b", names=("*.acme.example",))
    assert pinned_certificate_warnings(wild, "imap.acme.example") == ()
    assert len(pinned_certificate_warnings(wild, "a.b.acme.example")) == 1  # one label only
    *_, ip = make_certificate(tmp_path / "c", names=(), ips=("127.0.0.1",))
    assert pinned_certificate_warnings(ip, "127.0.0.1") == ()

    *_, old = make_certificate(
        tmp_path / "d",
        names=("imap.acme.example",),
        not_before=NOW - dt.timedelta(days=400),
        not_after=NOW - dt.timedelta(days=35),
    )
    [expired] = pinned_certificate_warnings(old, "imap.acme.example")
    assert "expired on" in expired and "accepted because its fingerprint is pinned" in expired

    *_, later = make_certificate(
        tmp_path / "e", names=("imap.acme.example",), not_before=NOW + dt.timedelta(days=3)
    )
    assert "valid only from" in pinned_certificate_warnings(later, "imap.acme.example")[0]

    *_, other = make_certificate(tmp_path / "f", names=("mail.other.example",))
    [named] = pinned_certificate_warnings(other, "imap.acme.example")
    assert "made for mail.other.example, not imap.acme.example" in named


@pytest.fixture
def stale_dovecot(
    dovecot_factory: DovecotFactory, monkeypatch: pytest.MonkeyPatch
) -> DovecotServer:
    """A Dovecot whose certificate expired a month ago and names another host."""

    def expired_other_name(directory: Path) -> tuple[Path, Path, str]:
        cert, key, fingerprint, _ = make_certificate(
            directory,
            names=("imap.old-host.example",),
            not_before=NOW - dt.timedelta(days=400),
            not_after=NOW - dt.timedelta(days=30),
        )
        return cert, key, fingerprint

    monkeypatch.setattr(dovecot_module, "_self_signed", expired_other_name)
    return dovecot_factory()


def test_check_imap_accepts_the_pinned_stale_certificate_with_warnings(
    stale_dovecot: DovecotServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = stale_dovecot
    user = server.add_user()
    monkeypatch.setenv("ONBOARD_SOURCE_PASSWORD", user.password)
    url = f"imaps://{user.login}@{server.host}:{server.imaps_port}"

    assert main(["check", "imap", url, "--pin", server.fingerprint]) == 0
    err = capsys.readouterr().err
    assert f"WARNING: the pinned certificate of {server.host} expired on" in err
    assert "made for imap.old-host.example" in err

    assert main(["check", "imap", url, "--pin", server.fingerprint, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and len(data["warnings"]) == 2

    store = create_session("Stale Co", "stale.example", example_profile())
    settings = ImapServerSettings(server.host, server.imaps_port, pin=server.fingerprint)
    result = probe_mailbox(settings, user.login, user.password)
    save_result(store, result)
    evidence = store.latest_evidence("4", "imap-test")
    assert evidence is not None and evidence.ok is True
    assert "WARNING: the pinned certificate" in evidence.summary
    assert len(evidence.data["warnings"]) == 2
    store.close()


def test_a_good_pinned_certificate_gives_no_warning(
    dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user = dovecot.add_user()
    monkeypatch.setenv("ONBOARD_SOURCE_PASSWORD", user.password)
    url = f"imaps://{user.login}@{dovecot.host}:{dovecot.imaps_port}"
    assert main(["check", "imap", url, "--pin", dovecot.fingerprint, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []
