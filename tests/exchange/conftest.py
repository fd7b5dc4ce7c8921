"""Helpers for the Exchange engine tests: settings for the stand-in and messages to write."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.servers import ews
from tests.servers.knot import KnotFactory, KnotServer
from wizard.devservers.ews import EwsSandbox
from wizard.events import Event
from wizard.exchange import Access, AuthType, ExchangeMailbox, ExchangeSettings, MimeMessage


def delegate_settings(sandbox: EwsSandbox, **kw: object) -> ExchangeSettings:
    return ExchangeSettings(
        sandbox.url,
        auth=AuthType.BASIC,
        access=Access.DELEGATE,
        pin=sandbox.fingerprint or "",
        **kw,
    )


def service_settings(sandbox: EwsSandbox, login: str = ews.SERVICE_LOGIN) -> ExchangeSettings:
    return ExchangeSettings(
        sandbox.url,
        auth=AuthType.BASIC,
        access=Access.IMPERSONATION,
        service_account=login,
        pin=sandbox.fingerprint or "",
    )


BASE_DATE = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)


def make_message(
    i: int, *, flags: tuple[str, ...] = (), size: int = 0, body: str = ""
) -> MimeMessage:
    """A message with its own Message-ID, a Date (sent time) and an INTERNALDATE a day later."""
    sent = BASE_DATE + timedelta(minutes=i)
    text = body or f"Hallo Nummer {i}, Grüße\r\n"
    if size:
        text += ("x" * 76 + "\r\n") * (size // 78 + 1)
    raw = (
        f"From: Bernd <bernd@example.org>\r\n"
        f"To: Anna <{ews.USER}>\r\n"
        f"Subject: Nachricht {i}\r\n"
        f"Message-ID: <msg-{i}@example.org>\r\n"
        f"Date: {sent.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"{text}"
    ).encode()
    return MimeMessage(i, raw, flags, sent + timedelta(days=1))


@pytest.fixture
def events() -> list[Event]:
    return []


@pytest.fixture
def anna(ews_sandbox: EwsSandbox, events: list[Event]) -> Iterator[ExchangeMailbox]:
    """The stand-in's mailbox ews.USER opened with its own login, events collected."""
    mailbox = ExchangeMailbox.open(
        delegate_settings(ews_sandbox), ews.USER, ews.PASSWORD, sink=events.append
    )
    yield mailbox
    mailbox.close()


@pytest.fixture
def open_anna(
    events: list[Event],
) -> Iterator[Callable[..., ExchangeMailbox]]:
    opened: list[ExchangeMailbox] = []

    def factory(sandbox: EwsSandbox, **kw: object) -> ExchangeMailbox:
        opened.append(
            ExchangeMailbox.open(
                delegate_settings(sandbox), ews.USER, ews.PASSWORD, sink=events.append, **kw
            )
        )
        return opened[-1]

    yield factory
    for mailbox in opened:
        mailbox.close()


# Autodiscover: nothing listens on port 443 of this address (a normal user cannot bind there),
# so the two https://...:443 candidates fail fast; the stand-in listens there on a free port.
AUTODISCOVER_HOST = "127.0.0.77"
AUTODISCOVER_DOMAIN = ews.USER.rpartition("@")[2]


def autodiscover_zone(port: int | None) -> str:
    """The domain and autodiscover.<domain> on AUTODISCOVER_HOST; with ``port`` the SRV record
    that leads to the stand-in."""
    srv = f"_autodiscover._tcp SRV 0 0 {port} autodiscover.{AUTODISCOVER_DOMAIN}.\n" if port else ""
    return f"@ A {AUTODISCOVER_HOST}\nautodiscover A {AUTODISCOVER_HOST}\n{srv}"


@pytest.fixture
def autodiscover_world(
    ews_sandbox_factory: Callable[..., EwsSandbox], knot_factory: KnotFactory
) -> tuple[EwsSandbox, KnotServer]:
    """The HTTPS stand-in on AUTODISCOVER_HOST and a Knot serving the SRV record pointing at it."""
    sandbox = ews_sandbox_factory(tls=True, host=AUTODISCOVER_HOST)
    knot = knot_factory({AUTODISCOVER_DOMAIN: autodiscover_zone(sandbox.port)})
    return sandbox, knot
