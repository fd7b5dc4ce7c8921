"""The server side of NTLM (v2) for the stand-in, as IIS does it for EWS: per connection,
NEGOTIATE -> 401 with a CHALLENGE -> AUTHENTICATE, after which the connection stays logged in.

The NTLM message layouts and hashes come from pyspnego (installed with requests_ntlm, which
exchangelib uses for NTLM). Its ``_ntlm_raw`` modules are not a public API: if they are missing
or change, ``ntlm_available()`` is False and the stand-in offers Basic only.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping

try:  # pragma: no cover - depends on the installed pyspnego
    from spnego._ntlm_raw.crypto import hmac_md5, ntowfv1, ntowfv2
    from spnego._ntlm_raw.messages import (
        Authenticate,
        AvId,
        Challenge,
        FileTime,
        Negotiate,
        NegotiateFlags,
        TargetInfo,
    )

    _AVAILABLE = True
except ImportError:  # pragma: no cover
    _AVAILABLE = False

NETBIOS_DOMAIN = "SANDBOX"
DNS_DOMAIN = "sandbox.test"


def ntlm_available() -> bool:
    return _AVAILABLE


def message_type(token: bytes) -> int:
    """1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE; 0 for anything that is not NTLM."""
    if len(token) < 12 or not token.startswith(b"NTLMSSP\x00"):
        return 0
    return int.from_bytes(token[8:12], "little")


def make_challenge(negotiate: bytes) -> tuple[bytes, bytes]:
    """(CHALLENGE message, the server challenge to keep for this connection)."""
    asked = Negotiate.unpack(negotiate).flags
    offered = (
        NegotiateFlags.unicode
        | NegotiateFlags.ntlm
        | NegotiateFlags.always_sign
        | NegotiateFlags.extended_session_security
        | NegotiateFlags.target_info
        | NegotiateFlags.key_128
        | NegotiateFlags.key_56
        | NegotiateFlags.key_exch
        | NegotiateFlags.sign
        | NegotiateFlags.seal
    )
    flags = (asked & offered) | NegotiateFlags.ntlm | NegotiateFlags.target_info
    if not asked & NegotiateFlags.unicode:
        flags |= NegotiateFlags.oem
    server_challenge = os.urandom(8)
    info = TargetInfo()
    info[AvId.nb_domain_name] = NETBIOS_DOMAIN
    info[AvId.nb_computer_name] = "EWS"
    info[AvId.dns_domain_name] = DNS_DOMAIN
    info[AvId.dns_computer_name] = f"ews.{DNS_DOMAIN}"
    info[AvId.timestamp] = FileTime.now()
    challenge = Challenge(
        flags=flags,
        server_challenge=server_challenge,
        target_name=NETBIOS_DOMAIN,
        target_info=info,
    )
    return challenge.pack(), server_challenge


def verify(
    authenticate: bytes, server_challenge: bytes, passwords: Mapping[str, str]
) -> str | None:
    """The login whose NTLMv2 response is valid for this challenge, or None.

    A login is found as ``DOMAIN\\user``, ``user`` or ``user@domain``; NTLMv1 is refused, as
    current Exchange servers do."""
    message = Authenticate.unpack(authenticate)
    response = message.nt_challenge_response or b""
    if len(response) <= 24:
        return None
    proof, blob = response[:16], response[16:]
    user = message.user_name or ""
    domain = message.domain_name or ""
    candidates = [f"{domain}\\{user}", user, f"{user}@{domain}"] if domain else [user]
    for login in candidates:
        password = passwords.get(login.lower())
        if password is None:
            continue
        key = ntowfv2(user, ntowfv1(password), domain)
        if hmac.compare_digest(hmac_md5(key, server_challenge + blob), proof):
            return login
    return None
