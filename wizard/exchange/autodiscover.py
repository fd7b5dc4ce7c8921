"""Find the EWS URL of an address with POX Autodiscover, as Outlook does.

Candidates in Microsoft's order: ``https://DOMAIN/autodiscover/autodiscover.xml``, then
``https://autodiscover.DOMAIN/...``, then the host and port of the SRV record
``_autodiscover._tcp.DOMAIN``. Names are looked up with the given ``DnsResolver`` (the session's
resolvers), and the connection goes to the address found with the name as SNI, certificate name
and Host. Answers may redirect to another address (``redirectAddr``: start again for it) or URL
(``redirectUrl``); a redirect loop ends the search. Every candidate tried is kept with what
happened, so the operator sees why each one failed.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from lxml import etree

from ..dns.autodiscover import autodiscover_names, srv_targets
from ..dns.resolver import DnsResolver
from ..tls import ResolveFailed, format_fingerprint, normalise_pin, pinned_context
from .errors import (
    CertificateMismatch,
    CertificateUntrusted,
    ExchangeFailure,
    FailureCode,
    classify,
)
from .settings import Access, AuthType, ExchangeSettings

PATH = "/autodiscover/autodiscover.xml"
REQUEST_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
MAX_REDIRECTS = 10  # Microsoft's advice for Autodiscover clients
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class AutodiscoverAttempt:
    """One candidate tried: its URL (or SRV name) and what happened; ``code`` is empty when it
    answered (with the EWS URL or a redirect)."""

    candidate: str
    outcome: str
    code: str = ""
    fingerprint: str = ""  # the certificate shown, when it was not trusted

    @property
    def ok(self) -> bool:
        return not self.code

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidate": self.candidate,
            "outcome": self.outcome,
            "code": self.code,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class Autodiscovery:
    """The EWS URL found for ``address`` (empty with a ``failure``) and every candidate tried."""

    address: str
    ews_url: str
    attempts: tuple[AutodiscoverAttempt, ...]
    failure: ExchangeFailure | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "ews_url": self.ews_url,
            "attempts": [a.as_dict() for a in self.attempts],
            "failure": self.failure.as_dict() if self.failure else None,
        }


@dataclass(frozen=True)
class _Answer:
    ews_url: str = ""
    redirect_address: str = ""
    redirect_url: str = ""
    error: str = ""


class _Refused(Exception):
    """The candidate answered, but not with settings (HTTP status, an Error element, bad XML)."""

    def __init__(self, code: FailureCode, outcome: str) -> None:
        super().__init__(outcome)
        self.code = code


class _AddressedHTTPS(http.client.HTTPSConnection):
    """HTTPS to an address already looked up; the host name goes in SNI, the certificate check
    and Host. With a pin only that certificate is trusted, else a public CA must vouch for it."""

    def __init__(self, host: str, port: int, address: str, pin: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address
        self.pin = pin

    def _handshake(self, context: ssl.SSLContext) -> ssl.SSLSocket:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        try:
            return context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise

    def connect(self) -> None:
        reason = ""
        if not self.pin:
            try:
                self.sock = self._handshake(ssl.create_default_context())
                return
            except ssl.SSLCertVerificationError as exc:
                reason = exc.verify_message or str(exc)
        tls = self._handshake(pinned_context())  # again, to show the operator what to pin
        seen = hashlib.sha256(tls.getpeercert(binary_form=True) or b"").hexdigest()
        if self.pin and seen == self.pin:
            self.sock = tls
            return
        tls.close()
        raise (
            CertificateMismatch(seen, self.pin) if self.pin else CertificateUntrusted(seen, reason)
        )


def _request_body(address: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<Autodiscover xmlns="{REQUEST_NS}"><Request>'
        f"<EMailAddress>{escape(address)}</EMailAddress>"
        f"<AcceptableResponseSchema>{RESPONSE_NS}</AcceptableResponseSchema>"
        "</Request></Autodiscover>"
    ).encode()


def _parse(data: bytes) -> _Answer:
    """The EWS URL (EXPR first, then EXCH), a redirect, or the Error's message."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _Refused(
            FailureCode.PROTOCOL, f"answered something that is not XML ({exc})"
        ) from None

    def text(element: Any, name: str) -> str:
        found = element.find(f".//{{*}}{name}")
        return (found.text or "").strip() if found is not None else ""

    error = root.find(".//{*}Error")
    if error is not None:
        return _Answer(error=f"{text(error, 'Message')} (error {text(error, 'ErrorCode')})")
    action = text(root, "Action")
    if action == "redirectAddr":
        return _Answer(redirect_address=text(root, "RedirectAddr"))
    if action == "redirectUrl":
        return _Answer(redirect_url=text(root, "RedirectUrl"))
    urls = {text(p, "Type"): text(p, "EwsUrl") for p in root.iterfind(".//{*}Protocol")}
    return _Answer(ews_url=urls.get("EXPR") or urls.get("EXCH") or "")


def _post(
    url: str,
    resolver: DnsResolver,
    body: bytes,
    login: str,
    secret: str,
    auth: AuthType,
    pin: str,
    timeout: float,
) -> _Answer:
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or 443
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        addresses, lookup = resolver.addresses(host)
        if not addresses:
            raise ResolveFailed(host, lookup.empty, lookup.describe()) from None
        address = addresses[0]
    connection = _AddressedHTTPS(host, port, address, pin, timeout)
    path = parts.path or PATH
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    try:
        if auth is AuthType.BASIC:
            token = base64.b64encode(f"{login}:{secret}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
            response, data = _send(connection, path, body, headers)
        else:
            import spnego  # comes with requests_ntlm, which exchangelib uses for NTLM

            ntlm = spnego.client(login, secret, protocol="ntlm")
            headers["Authorization"] = f"NTLM {base64.b64encode(ntlm.step() or b'').decode()}"
            response, data = _send(connection, path, body, headers)
            offer = response.getheader("WWW-Authenticate") or ""
            if response.status == 401 and offer.startswith("NTLM "):
                reply = ntlm.step(base64.b64decode(offer[5:].strip())) or b""
                headers["Authorization"] = f"NTLM {base64.b64encode(reply).decode()}"
                response, data = _send(connection, path, body, headers)
    finally:
        connection.close()
    if response.status == 401:
        offers = ", ".join(
            o.partition(" ")[0] for o in response.headers.get_all("WWW-Authenticate", [])
        )
        outcome = f"rejected the login of {login} (HTTP 401; it offers {offers or 'no login'})"
        raise _Refused(FailureCode.AUTH_REJECTED, outcome)
    if response.status != 200:
        location = response.getheader("Location")
        moved = f" to {location}, not followed" if location else ""
        raise _Refused(FailureCode.PROTOCOL, f"answered HTTP {response.status}{moved}")
    answer = _parse(data)
    if answer.error:
        raise _Refused(FailureCode.AUTODISCOVER_FAILED, f"answered: {answer.error}")
    return answer


def _send(
    connection: _AddressedHTTPS, path: str, body: bytes, headers: dict[str, str]
) -> tuple[http.client.HTTPResponse, bytes]:
    """POST and read the whole answer (NTLM's second leg reuses the connection)."""
    connection.request("POST", path, body, headers)
    response = connection.getresponse()
    return response, response.read()


def _candidates(
    address: str, resolver: DnsResolver, attempts: list[AutodiscoverAttempt]
) -> Iterator[str]:
    """The URLs to ask for ``address``; the SRV record is looked up only when they come to it."""
    domain = address.rpartition("@")[2]
    host, srv_name = autodiscover_names(domain)
    yield f"https://{domain}{PATH}"
    yield f"https://{host}{PATH}"
    srv = resolver.query(srv_name, "SRV")
    targets = srv_targets(srv)
    if not targets:
        attempts.append(
            AutodiscoverAttempt(
                f"SRV {srv_name}",
                f"no SRV record ({srv.state.label})",
                FailureCode.DNS_FAILURE if srv.failed else FailureCode.DNS_NOT_FOUND,
            )
        )
    for target, port in targets:
        yield f"https://{target}{'' if port == 443 else f':{port}'}{PATH}"


def _failed(url: str, exc: BaseException, settings: ExchangeSettings) -> AutodiscoverAttempt:
    if isinstance(exc, _Refused):
        return AutodiscoverAttempt(url, str(exc), exc.code)
    failure = classify(exc, settings)
    outcome = failure.message.split(". ")[0].rstrip(".") + "."
    shown = format_fingerprint(failure.fingerprint)
    if shown and shown not in outcome:
        outcome += f" Its SHA-256 fingerprint is {shown}."
    return AutodiscoverAttempt(url, outcome, failure.code, failure.fingerprint)


def _gave_up(address: str, login: str, attempts: list[AutodiscoverAttempt]) -> ExchangeFailure:
    detail = "; ".join(f"{a.candidate}: {a.outcome}" for a in attempts)
    domain = address.rpartition("@")[2]
    rejected = [a for a in attempts if a.code == FailureCode.AUTH_REJECTED]
    if rejected:
        where = rejected[0].candidate
        return ExchangeFailure(
            FailureCode.AUTH_REJECTED,
            urlsplit(where).hostname or domain,
            f"Autodiscover at {where} rejected the login of {login}. Check the user name "
            "(DOMAIN\\user or user@domain), the password and the authentication type.",
            mailbox=address,
            detail=detail,
        )
    return ExchangeFailure(
        FailureCode.AUTODISCOVER_FAILED,
        domain,
        f"Autodiscover found no EWS URL for {address} ({len(attempts)} candidates tried, listed "
        "below). Fix what they show (step 8 lists the Autodiscover records to publish), or enter "
        "the EWS URL from the provider profile.",
        mailbox=address,
        detail=detail,
    )


def discover_ews_url(
    address: str,
    login: str,
    secret: str,
    resolver: DnsResolver,
    *,
    auth: AuthType = AuthType.NTLM,
    pin: str = "",
    timeout: float = 15.0,
) -> Autodiscovery:
    """The EWS URL for ``address``, asking with ``login``'s credentials. A ``pin`` (SHA-256) is
    the one certificate trusted on the Autodiscover servers, else a public CA must vouch."""
    pin = normalise_pin(pin)
    attempts: list[AutodiscoverAttempt] = []
    asked: set[tuple[str, str]] = set()
    target = address.strip()
    candidates = _candidates(target, resolver, attempts)
    redirects = 0
    while (url := next(candidates, None)) is not None:
        if (target.lower(), url.lower()) in asked:
            attempts.append(
                AutodiscoverAttempt(
                    url,
                    f"asked for {target} before: a redirect loop",
                    FailureCode.AUTODISCOVER_FAILED,
                )
            )
            break
        asked.add((target.lower(), url.lower()))
        settings = ExchangeSettings(
            url, auth=auth, access=Access.DELEGATE, pin=pin, timeout=timeout
        )
        try:
            answer = _post(url, resolver, _request_body(target), login, secret, auth, pin, timeout)
        except Exception as exc:  # noqa: BLE001 - each candidate's failure is recorded, then the next
            attempts.append(_failed(url, exc, settings))
            continue
        if answer.ews_url:
            attempts.append(AutodiscoverAttempt(url, f"EWS URL {answer.ews_url}"))
            return Autodiscovery(address, answer.ews_url, tuple(attempts))
        redirects += 1
        if redirects > MAX_REDIRECTS:
            outcome = f"more than {MAX_REDIRECTS} redirects"
            attempts.append(AutodiscoverAttempt(url, outcome, FailureCode.AUTODISCOVER_FAILED))
            break
        if answer.redirect_address:
            attempts.append(AutodiscoverAttempt(url, f"redirect to {answer.redirect_address}"))
            target = answer.redirect_address
            candidates = _candidates(target, resolver, attempts)
        elif answer.redirect_url.startswith("https://"):
            attempts.append(AutodiscoverAttempt(url, f"redirect to {answer.redirect_url}"))
            candidates = iter([answer.redirect_url])
        else:
            outcome = f"answered without an EWS URL ({answer.redirect_url or 'no EXPR or EXCH'})"
            attempts.append(AutodiscoverAttempt(url, outcome, FailureCode.PROTOCOL))
    return Autodiscovery(address, "", tuple(attempts), _gave_up(address, login, attempts))


__all__ = ["AutodiscoverAttempt", "Autodiscovery", "discover_ews_url"]
