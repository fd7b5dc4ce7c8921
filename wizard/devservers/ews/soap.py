"""SOAP envelopes of EWS: parsing requests and building responses (lxml, already an exchangelib
dependency). Namespaces and prefixes as Exchange uses them."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

SOAPNS = "http://schemas.xmlsoap.org/soap/envelope/"
MNS = "http://schemas.microsoft.com/exchange/services/2006/messages"
TNS = "http://schemas.microsoft.com/exchange/services/2006/types"
ENS = "http://schemas.microsoft.com/exchange/services/2006/errors"

NSMAP = {"s": SOAPNS, "m": MNS, "t": TNS}

# Reported in every response header; a client that pins Exchange2016 sends no version probes.
SERVER_BUILD = {  # Exchange 2016's build, 15.1.2507.6
    name: str(part)
    for name, part in zip(
        ("MajorVersion", "MinorVersion", "MajorBuildNumber", "MinorBuildNumber"),
        (15, 1, 2507, 6),
        strict=True,
    )
}
DEFAULT_API_VERSION = "Exchange2016"
# For clients: exchangelib.Version(Build(*SANDBOX_BUILD), SANDBOX_API_VERSION) sends no probes.
SANDBOX_BUILD = tuple(int(v) for v in SERVER_BUILD.values())
SANDBOX_API_VERSION = DEFAULT_API_VERSION

# Big MIME bodies (tens of MB of base64) exceed libxml2's default text node limit.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=True
)


class SoapFault(Exception):
    """A request-level failure, sent as a SOAP Fault (HTTP 500) with the EWS ResponseCode."""

    def __init__(self, code: str, text: str, *, back_off_ms: int | None = None) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text
        self.back_off_ms = back_off_ms


class EwsError(Exception):
    """A failure of one response message (one folder, one item) with its EWS ResponseCode."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


@dataclass(frozen=True)
class SoapRequest:
    operation: str
    body: etree._Element  # the m:<Operation> element
    header: etree._Element | None
    api_version: str

    def impersonated(self) -> str | None:
        """The mailbox named in an ExchangeImpersonation header, if any."""
        if self.header is None:
            return None
        sid = self.header.find(f"{{{TNS}}}ExchangeImpersonation/{{{TNS}}}ConnectingSID")
        if sid is None:
            return None
        for name in ("PrimarySmtpAddress", "SmtpAddress", "PrincipalName"):
            value = sid.findtext(f"{{{TNS}}}{name}")
            if value:
                return value.strip()
        return None


def parse_request(data: bytes) -> SoapRequest:
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SoapFault("ErrorSchemaValidation", f"The request is not valid XML: {exc}") from exc
    if root.tag != f"{{{SOAPNS}}}Envelope":
        raise SoapFault("ErrorSchemaValidation", "The request is not a SOAP 1.1 envelope.")
    body = root.find(f"{{{SOAPNS}}}Body")
    if body is None or len(body) == 0:
        raise SoapFault("ErrorSchemaValidation", "The SOAP envelope has no body.")
    operation = body[0]
    header = root.find(f"{{{SOAPNS}}}Header")
    version = DEFAULT_API_VERSION
    if header is not None:
        requested = header.find(f"{{{TNS}}}RequestServerVersion")
        if requested is not None and requested.get("Version"):
            version = requested.get("Version") or version
    return SoapRequest(etree.QName(operation).localname, operation, header, version)


def t(tag: str) -> str:
    return f"{{{TNS}}}{tag}"


def m(tag: str) -> str:
    return f"{{{MNS}}}{tag}"


def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    elem = etree.SubElement(parent, tag, attrs)
    if text is not None:
        elem.text = text
    return elem


def envelope(api_version: str) -> tuple[etree._Element, etree._Element]:
    """A response envelope with the server version header; returns (envelope, body)."""
    root = etree.Element(f"{{{SOAPNS}}}Envelope", nsmap=NSMAP)
    header = sub(root, f"{{{SOAPNS}}}Header")
    sub(header, t("ServerVersionInfo"), Version=api_version, **SERVER_BUILD)
    return root, sub(root, f"{{{SOAPNS}}}Body")


def serialize(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def fault_response(fault: SoapFault, api_version: str = DEFAULT_API_VERSION) -> bytes:
    root, body = envelope(api_version)
    elem = sub(body, f"{{{SOAPNS}}}Fault")
    code = etree.SubElement(elem, "faultcode", nsmap={"a": TNS})
    code.text = f"a:{fault.code}"
    sub(elem, "faultstring", fault.text)
    detail = sub(elem, "detail")
    sub(detail, f"{{{ENS}}}ResponseCode", fault.code)
    sub(detail, f"{{{ENS}}}Message", fault.text)
    if fault.back_off_ms is not None:
        xml = sub(detail, t("MessageXml"))
        sub(xml, t("Value"), str(fault.back_off_ms), Name="BackOffMilliseconds")
    return serialize(root)


def response_message(
    container: etree._Element, operation: str, error: EwsError | None = None
) -> etree._Element:
    """One <m:OperationResponseMessage> with its ResponseClass and ResponseCode."""
    msg = sub(
        container,
        m(f"{operation}ResponseMessage"),
        ResponseClass="Error" if error else "Success",
    )
    if error:
        sub(msg, m("MessageText"), error.text)
        sub(msg, m("ResponseCode"), error.code)
        sub(msg, m("DescriptiveLinkKey"), "0")
    else:
        sub(msg, m("ResponseCode"), "NoError")
    return msg


def text_bool(value: bool) -> str:
    return "true" if value else "false"


def parse_bool(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", str(1))  # xs:boolean's two ways of true
