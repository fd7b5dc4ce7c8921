"""POX Autodiscover as Exchange answers it (``/autodiscover/autodiscover.xml``): the stand-in's own
EWS URL for its mailboxes, a redirect for the addresses in ``redirects`` (to an address:
redirectAddr; to an https URL: redirectUrl), else Exchange's "address can't be found" error."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from xml.sax.saxutils import escape

from lxml import etree

AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def requested_address(body: bytes) -> str:
    """The EMailAddress of a request, '' when there is none (or no XML)."""
    try:
        found = etree.fromstring(body, _PARSER).find(".//{*}EMailAddress")
    except etree.XMLSyntaxError:
        return ""
    return (found.text or "").strip() if found is not None else ""


def _wrap(inner: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<Autodiscover xmlns="{RESPONSE_NS}"><Response xmlns="{OUTLOOK_NS}">{inner}'
        "</Response></Autodiscover>"
    ).encode()


def autodiscover_answer(
    body: bytes, ews_url: str, known: Callable[[str], bool], redirects: Mapping[str, str]
) -> bytes:
    address = requested_address(body)
    target = redirects.get(address.lower(), "")
    if target:
        if "://" in target:
            redirect = f"<Action>redirectUrl</Action><RedirectUrl>{escape(target)}</RedirectUrl>"
        else:
            redirect = f"<Action>redirectAddr</Action><RedirectAddr>{escape(target)}</RedirectAddr>"
        return _wrap(f"<Account><AccountType>email</AccountType>{redirect}</Account>")
    if address and known(address):
        protocols = "".join(
            f"<Protocol><Type>{kind}</Type><Server>{escape(ews_url)}</Server>"
            f"<EwsUrl>{escape(ews_url)}</EwsUrl></Protocol>"
            for kind in ("EXCH", "EXPR")
        )
        return _wrap(
            f"<User><AutoDiscoverSMTPAddress>{escape(address)}</AutoDiscoverSMTPAddress></User>"
            f"<Account><AccountType>email</AccountType><Action>settings</Action>{protocols}"
            "</Account>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<Autodiscover xmlns="{RESPONSE_NS}"><Response><Error Id="1" Time="00:00:00">'
        "<ErrorCode>500</ErrorCode><Message>The email address can't be found.</Message>"
        "<DebugData /></Error></Response></Autodiscover>"
    ).encode()
