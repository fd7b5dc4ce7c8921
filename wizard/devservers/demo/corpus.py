"""The demo company's mail: five mailboxes of generated messages, the same for the same seed.

What a real old IMAP server tends to hold, in small: folders named in several languages (some
nested, some non-ASCII), clients' own names for Sent/Drafts/Trash/Junk instead of SPECIAL-USE,
messages from 2009 on, attachments (CSV, PDF, PNG, calendar invites, one bigger scan), flags
(seen, answered, flagged, forwarded, draft) and a couple of old messages without a Message-ID.
Nothing here reads the clock or the network: the same seed gives byte-identical messages.
"""

from __future__ import annotations

import email.policy
import hashlib
import random
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

DEFAULT_SEED = 20091
DEMO_CUSTOMER = "Demo company"
DEMO_DOMAIN = "demo-company.example"
DELIMITER = "/"

_FIRST_DATE = datetime(2009, 3, 2, 8, 0, tzinfo=UTC)
_LAST_DATE = datetime(2025, 9, 30, 18, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoMessage:
    raw: bytes  # the message exactly as the IMAP server serves it (CRLF line ends)
    flags: tuple[str, ...]  # IMAP flags, e.g. ("\\Seen", "$Forwarded")
    internal_date: datetime
    message_id: str  # "" for the few messages that have none
    subject: str

    @property
    def size(self) -> int:
        return len(self.raw)


@dataclass(frozen=True)
class DemoFolder:
    path: tuple[str, ...]  # ("Buchhaltung", "Rechnungen 2011"); ("INBOX",) for the inbox
    messages: tuple[DemoMessage, ...]
    role: str = ""  # what the folder is for ("sent", "drafts" ...), as wizard.imap.Role names it

    @property
    def name(self) -> str:
        return DELIMITER.join(self.path)


@dataclass(frozen=True)
class DemoMailbox:
    login: str  # the login on the old IMAP server
    password: str  # the demo password, on the demo IMAP server and the demo Exchange alike
    display_name: str
    address: str  # the address it gets on the provider's Exchange
    folders: tuple[DemoFolder, ...]

    @property
    def message_count(self) -> int:
        return sum(len(f.messages) for f in self.folders)

    @property
    def total_bytes(self) -> int:
        return sum(m.size for f in self.folders for m in f.messages)

    def folder(self, name: str) -> DemoFolder:
        for folder in self.folders:
            if folder.name == name:
                return folder
        raise KeyError(name)


@dataclass(frozen=True)
class DemoCompany:
    customer: str
    domain: str
    seed: int
    mailboxes: tuple[DemoMailbox, ...]

    @property
    def message_count(self) -> int:
        return sum(m.message_count for m in self.mailboxes)

    def mailbox(self, login: str) -> DemoMailbox:
        for mailbox in self.mailboxes:
            if login in (mailbox.login, mailbox.address):
                return mailbox
        raise KeyError(login)


@dataclass(frozen=True)
class _Persona:
    login: str
    display_name: str
    language: str
    # (folder path, role, share of the mailbox's messages)
    folders: tuple[tuple[str, str, float], ...]
    messages: int


_PERSONAS: tuple[_Persona, ...] = (
    _Persona(
        "anna.bergstrom", "Anna Bergström", "sv",
        (("INBOX", "inbox", 0.38), ("Sent", "sent", 0.18), ("Drafts", "drafts", 0.03),
         ("Trash", "trash", 0.05), ("Junk", "junk", 0.04), ("Archive", "archive", 0.08),
         ("Archive/2012", "", 0.08), ("Kunder/Öresund AB", "", 0.08),
         ("Projects/Expo 2019", "", 0.08)),
        78,
    ),
    _Persona(
        "jose.alvarez", "José Álvarez", "es",
        (("INBOX", "inbox", 0.40), ("Enviados", "sent", 0.20), ("Borradores", "drafts", 0.03),
         ("Papelera", "trash", 0.05), ("Spam", "junk", 0.04), ("Proveedores", "", 0.06),
         ("Proveedores/Málaga", "", 0.12), ("Proveedores/Málaga/2015", "", 0.10)),
        72,
    ),
    _Persona(
        "mei.chen", "Mei Chen", "zh",
        (("INBOX", "inbox", 0.42), ("Sent Items", "sent", 0.20), ("Drafts", "drafts", 0.04),
         ("Deleted Items", "trash", 0.06), ("项目", "", 0.04), ("项目/上海展会", "", 0.14),
         ("Travel", "", 0.10)),
        66,
    ),
    _Persona(
        "juergen.weiss", "Jürgen Weiß", "de",
        (("INBOX", "inbox", 0.36), ("INBOX/Wichtig", "", 0.06), ("Gesendet", "sent", 0.18),
         ("Entwürfe", "drafts", 0.03), ("Papierkorb", "trash", 0.05),
         ("Spamverdacht", "junk", 0.04), ("Buchhaltung", "", 0.04),
         ("Buchhaltung/Rechnungen 2011", "", 0.14), ("Buchhaltung/Mahnungen", "", 0.10)),
        84,
    ),
    _Persona(
        "info", "Info (shared)", "en",
        (("INBOX", "inbox", 0.50), ("Sent", "sent", 0.16), ("Trash", "trash", 0.06),
         ("Anfragen", "", 0.14), ("Anfragen/Bewerbungen", "", 0.08),
         ("Newsletter", "", 0.06)),
        70,
    ),
)  # fmt: skip

_PARTNERS: tuple[tuple[str, str], ...] = (
    ("Lars Öberg", "lars@oresund-ab.example"),
    ("Carmen Ruiz", "carmen.ruiz@malaga-suministros.example"),
    ("王磊", "wang.lei@shanghai-expo.example"),
    ("Sabine Köhler", "s.koehler@steuerbuero-koehler.example"),
    ("Pierre Lefèvre", "pierre@lefevre-logistique.example"),
    ("Olivia Brown", "olivia.brown@northwind.example"),
    ("Søren Nørgaard", "soren@nordic-freight.example"),
    ("Accounts payable", "ap@contoso-supplies.example"),
)

_SUBJECTS: dict[str, tuple[str, ...]] = {
    "sv": ("Offert för {n} pallar", "Möte på torsdag?", "Leveransen från Göteborg",
           "Årsavtal {y}", "Frågor om fakturan"),
    "es": ("Pedido nº {n}", "Reunión en Málaga", "Presupuesto {y} revisado",
           "Envío retrasado — ¿novedades?", "Factura pendiente"),
    "zh": ("关于{y}年展会的安排", "报价单 {n}", "Shanghai trade fair booth", "出差行程确认",
           "Samples for the {y} catalogue"),
    "de": ("Rechnung Nr. {n}", "Mahnung: Zahlungserinnerung", "Jahresabschluss {y}",
           "Überweisung für März", "Prüfung der Belege — Rückfrage"),
    "en": ("Enquiry about order {n}", "Your newsletter — {y} edition", "Application: trainee {y}",
           "Price list {y}", "Opening hours over the holidays"),
}  # fmt: skip

_BODIES: dict[str, tuple[str, ...]] = {
    "sv": ("Hej,\n\nTack för ditt mejl. Vi återkommer med en offert senast på fredag.\n\n"
           "Vänliga hälsningar\n{me}",
           "Hej!\n\nKan vi ses på torsdag kl. 10? Jag tar med underlagen.\n\nMvh\n{me}"),
    "es": ("Hola:\n\nAdjunto el presupuesto revisado. ¿Podéis confirmar la cantidad?\n\n"
           "Un saludo,\n{me}",
           "Buenos días,\n\nEl envío sale mañana desde Málaga. Os aviso cuando llegue.\n\n{me}"),
    "zh": ("您好，\n\n附件是最新的报价单，请查收。如有问题请随时联系。\n\n谢谢！\n{me}",
           "Hi,\n\nPlease find the itinerary attached. 航班已确认。\n\nBest regards,\n{me}"),
    "de": ("Guten Tag,\n\nanbei die Rechnung zur Lieferung vom letzten Monat. Bitte überweisen "
           "Sie den Betrag innerhalb von 14 Tagen.\n\nMit freundlichen Grüßen\n{me}",
           "Hallo,\n\nkönnen Sie mir die Belege für März noch einmal schicken? Die Prüfung "
           "läuft bis Freitag.\n\nGrüße\n{me}"),
    "en": ("Hello,\n\nThank you for your enquiry. Our price list is attached; delivery takes "
           "about two weeks.\n\nKind regards,\n{me}",
           "Hi,\n\nWe are closed from 24 December to 2 January. Orders placed now ship in "
           "January.\n\n{me}"),
}  # fmt: skip


def _png(rng: random.Random, width: int = 24, height: int = 16) -> bytes:
    """A small valid PNG (a coloured block) without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    r, g, b = rng.randrange(256), rng.randrange(256), rng.randrange(256)
    rows = b"".join(b"\x00" + bytes((r, g, b)) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _pdf(title: str) -> bytes:
    """A one-page PDF that viewers open, with the title as its text."""
    text = title.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 14 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _csv(rng: random.Random, year: int) -> bytes:
    lines = ["Pos;Artikel;Menge;Preis EUR"]
    for pos in range(1, rng.randint(3, 12)):
        lines.append(f"{pos};Art-{rng.randint(1000, 9999)};{rng.randint(1, 40)};"
                     f"{rng.randint(5, 900)},{rng.randint(0, 99):02d}")  # fmt: skip
    lines.append(f"Summe {year};;;")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _ics(when: datetime, subject: str) -> bytes:
    start = (when + timedelta(days=3)).strftime("%Y%m%dT%H%M%SZ")
    end = (when + timedelta(days=3, hours=1)).strftime("%Y%m%dT%H%M%SZ")
    uid = hashlib.sha1(f"{start}{subject}".encode()).hexdigest()
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Demo company//onboard demo//EN\r\n"
        f"BEGIN:VEVENT\r\nUID:{uid}@{DEMO_DOMAIN}\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
        f"SUMMARY:{subject}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def _attachments(
    rng: random.Random, when: datetime, subject: str, big: bool
) -> list[tuple[bytes, str, str, str]]:
    """(data, maintype, subtype, filename) of the attachments one message gets."""
    if big:
        # One bigger scan per mailbox: shows a visible byte count in the copy's progress.
        return [(rng.randbytes(180_000 + rng.randrange(60_000)), "image", "tiff", "Scan_001.tif")]
    roll = rng.random()
    if roll < 0.55:
        return []
    kinds = [
        (_csv(rng, when.year), "text", "csv", f"Rechnung_{when.year}_{rng.randint(10, 99)}.csv"),
        (_pdf(subject), "application", "pdf", f"Angebot {when:%Y-%m}.pdf"),
        (_png(rng), "image", "png", "logo.png"),
        (_ics(when, subject), "text", "calendar", "invite.ics"),
        ("Notizen: Überblick für das Treffen — ✓ erledigt\r\n".encode(), "text", "plain",
         "Übersicht.txt"),
    ]  # fmt: skip
    count = 1 if roll < 0.9 else 2
    return rng.sample(kinds, count)


def _flags(rng: random.Random, role: str) -> tuple[str, ...]:
    if role == "drafts":
        return ("\\Draft",) if rng.random() < 0.7 else ("\\Draft", "\\Seen")
    flags: list[str] = []
    if role in ("sent", "archive", "trash") or rng.random() < 0.78:
        flags.append("\\Seen")
    if role in ("inbox", "") and rng.random() < 0.18:
        flags.append("\\Answered")
    if rng.random() < 0.09:
        flags.append("\\Flagged")
    if role in ("inbox", "") and rng.random() < 0.05:
        flags.append("$Forwarded")
    return tuple(flags)


def _when(rng: random.Random, path: str) -> datetime:
    first, last = _FIRST_DATE, _LAST_DATE
    for year in range(2009, 2026):
        if str(year) in path:  # "Archive/2012", "Rechnungen 2011": messages of that year
            first = max(first, datetime(year, 1, 2, tzinfo=UTC))
            last = min(last, datetime(year, 12, 30, tzinfo=UTC))
    span = int((last - first).total_seconds())
    return first + timedelta(seconds=rng.randrange(span))


def _message(
    rng: random.Random,
    persona: _Persona,
    me: Address,
    role: str,
    path: str,
    number: int,
    *,
    big: bool,
    with_message_id: bool,
    sent_at: datetime | None = None,
) -> DemoMessage:
    partner_name, partner_addr = rng.choice(_PARTNERS)
    partner = Address(partner_name, addr_spec=partner_addr)
    when = sent_at or _when(rng, path)
    year = when.year
    subject = rng.choice(_SUBJECTS[persona.language]).format(n=rng.randint(1000, 9999), y=year)
    if role == "junk":
        subject = rng.choice(("You have WON a prize!!!", "Cheap meds — 90% off", "Re: invoice"))
        partner = Address("Winner Team", addr_spec=f"noreply{rng.randint(1, 99)}@spam.example")
    if role == "inbox" and rng.random() < 0.2:
        subject = "Re: " + subject
    outgoing = role in ("sent", "drafts")
    sender, recipient = (me, partner) if outgoing else (partner, me)
    body = rng.choice(_BODIES[persona.language]).format(me=sender.display_name)

    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = recipient
    if rng.random() < 0.15:
        cc_name, cc_addr = rng.choice(_PARTNERS)
        msg["Cc"] = Address(cc_name, addr_spec=cc_addr)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    message_id = ""
    if with_message_id:
        digest = hashlib.sha1(f"{persona.login}/{path}/{number}".encode()).hexdigest()[:20]
        domain = sender.domain or DEMO_DOMAIN
        message_id = f"<{digest}.{number}@{domain}>"
        msg["Message-ID"] = message_id
    msg["X-Mailer"] = rng.choice(("Thunderbird 2.0.0.24", "Outlook Express 6.0", "Roundcube 1.4"))
    msg.set_content(body)
    if rng.random() < 0.25:
        html = "<html><body>" + "".join(f"<p>{line}</p>" for line in body.split("\n\n"))
        msg.add_alternative(html + "</body></html>", subtype="html")
    for data, maintype, subtype, filename in _attachments(rng, when, subject, big):
        if maintype == "text":
            msg.add_attachment(
                data.decode("utf-8"), subtype=subtype, filename=filename, charset="utf-8"
            )
        else:
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():  # fixed boundaries: the email package picks random ones
            part.set_boundary(f"=_demo_{persona.login}_{number}_{index}")
    raw = msg.as_bytes(policy=email.policy.SMTP)
    received = when + timedelta(seconds=rng.randrange(5, 900))
    return DemoMessage(
        raw=raw,
        flags=_flags(rng, role),
        internal_date=received,
        message_id=message_id,
        subject=subject,
    )


@dataclass(frozen=True)
class LateMail:
    """A message that still reaches the old server while the MX change propagates."""

    index: int
    login: str
    offset: float  # seconds after the MX change began


def late_mail_schedule(company: DemoCompany, offsets: tuple[float, ...]) -> tuple[LateMail, ...]:
    """Which mailbox gets the late message at each offset (the same for the same seed)."""
    rng = random.Random(f"{company.seed}:late")
    logins = [m.login for m in company.mailboxes]
    return tuple(LateMail(i, rng.choice(logins), offset) for i, offset in enumerate(offsets))


def late_message(company: DemoCompany, late: LateMail, arrived: datetime) -> DemoMessage:
    """The late message's bytes: sent a minute before it ``arrived`` (both fixed by the caller)."""
    persona = next(p for p in _PERSONAS if p.login == late.login)
    mailbox = company.mailbox(late.login)
    rng = random.Random(f"{company.seed}:late:{late.index}")
    me = Address(mailbox.display_name, addr_spec=mailbox.address)
    arrived = arrived.astimezone(UTC).replace(microsecond=0)
    message = _message(
        rng, persona, me, "inbox", "INBOX", 100_000 + late.index,
        big=False, with_message_id=True, sent_at=arrived - timedelta(minutes=1),
    )  # fmt: skip
    return DemoMessage(message.raw, (), arrived, message.message_id, message.subject)


def _password(seed: int, login: str) -> str:
    return "demo-" + hashlib.sha256(f"{seed}:{login}".encode()).hexdigest()[:12]


def _mailbox(seed: int, persona: _Persona, domain: str, scale: float) -> DemoMailbox:
    rng = random.Random(f"{seed}:{persona.login}")
    address = f"{persona.login}@{domain}"
    me = Address(persona.display_name, addr_spec=address)
    total = max(len(persona.folders), round(persona.messages * scale))
    counts = [max(1, round(total * share)) for _path, _role, share in persona.folders]
    big_folder = 0  # the inbox gets the one big scan
    # The two messages without a Message-ID: old mail in the accountant's and the shared inbox.
    missing_id = persona.login in ("juergen.weiss", "info")
    folders: list[DemoFolder] = []
    number = 0
    for index, ((path, role, _share), count) in enumerate(
        zip(persona.folders, counts, strict=True)
    ):
        messages = []
        for i in range(count):
            number += 1
            messages.append(
                _message(
                    rng,
                    persona,
                    me,
                    role,
                    path,
                    number,
                    big=(index == big_folder and i == 1),
                    with_message_id=not (missing_id and index == 0 and i == 2),
                )
            )
        messages.sort(key=lambda m: m.internal_date)  # old servers hold them in arrival order
        folders.append(DemoFolder(tuple(path.split(DELIMITER)), tuple(messages), role))
    return DemoMailbox(
        login=persona.login,
        password=_password(seed, persona.login),
        display_name=persona.display_name,
        address=address,
        folders=tuple(folders),
    )


def generate_company(
    seed: int = DEFAULT_SEED, *, domain: str = DEMO_DOMAIN, scale: float = 1.0
) -> DemoCompany:
    """The demo company's five mailboxes (about 370 messages at ``scale=1``; tests may shrink it)."""
    return DemoCompany(
        customer=DEMO_CUSTOMER,
        domain=domain,
        seed=seed,
        mailboxes=tuple(_mailbox(seed, p, domain, scale) for p in _PERSONAS),
    )


__all__ = [
    "DEFAULT_SEED",
    "DELIMITER",
    "DEMO_CUSTOMER",
    "DEMO_DOMAIN",
    "DemoCompany",
    "DemoFolder",
    "DemoMailbox",
    "DemoMessage",
    "LateMail",
    "generate_company",
    "late_mail_schedule",
    "late_message",
]
