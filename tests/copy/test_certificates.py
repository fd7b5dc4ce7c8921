"""A certificate that does not match is not retried, and the message names the flag of the side
that failed (--pin for the source, --dest-pin for the target). Real Dovecot over implicit TLS."""

from __future__ import annotations

import pytest

from tests.servers.dovecot import DovecotServer, make_message
from wizard.copy.connect import Endpoint, source_factory, target_factory
from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
from wizard.copy.events import CopyLog
from wizard.copy.ledger import CopyLedger
from wizard.profile import example_profile
from wizard.session import create_session

OTHER_PIN = "ab" * 32


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    s = create_session("Certificates", "cert.example", example_profile())
    yield s
    s.close()


def _run(dovecot: DovecotServer, store, *, source_pin: str, target_pin: str):  # type: ignore[no-untyped-def]
    source, target = dovecot.add_user(), dovecot.add_user()
    dovecot.seed(source.login, "INBOX", [make_message(1)])

    def endpoint(login: str, pin: str) -> Endpoint:
        return Endpoint("imap", dovecot.host, dovecot.imaps_port, login, "tls", pin=pin)

    job = MailboxJob(
        mailbox=target.login,
        source=source_factory(endpoint(source.login, source_pin), source.password),
        target=target_factory(endpoint(target.login, target_pin), target.password),
    )
    events: list[object] = []
    settings = CopySettings(backoff_initial=0.05, backoff_max=0.1)
    result = CopyEngine(CopyLedger(store), [job], settings, sink=events.append).run()
    retries = [e for e in events if isinstance(e, CopyLog) and e.event == "retry"]
    return result.mailboxes[0], retries


def test_a_wrong_target_certificate_names_dest_pin_and_is_not_retried(
    dovecot: DovecotServer, store
) -> None:
    result, retries = _run(dovecot, store, source_pin=dovecot.fingerprint, target_pin=OTHER_PIN)
    assert not result.ok and result.unreachable
    assert "--dest-pin" in result.error and "The target 127.0.0.1" in result.error
    assert "--pin " not in result.error.replace("--dest-pin", "")
    assert retries == []


def test_a_wrong_source_certificate_names_pin(dovecot: DovecotServer, store) -> None:
    result, retries = _run(dovecot, store, source_pin=OTHER_PIN, target_pin=dovecot.fingerprint)
    assert not result.ok and "--pin" in result.error and "--dest-pin" not in result.error
    assert "The source 127.0.0.1" in result.error
    assert retries == []
