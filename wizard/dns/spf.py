"""Step 13.2: the domain's SPF record (RFC 7208) and the record to publish instead.

The lookup count is computed by a walker of our own over ``DnsResolver`` rather than with
pyspf: pyspf resolves through a module-global DNS function (``spf.DNSLookup``) that cannot be
bound to one check's servers without patching it for the whole process, and its evaluation
needs a sending IP and stops at the first match, while the count here must cover every branch
the record could take. The walker counts what RFC 7208 section 4.6.4 counts (``include``, ``a``,
``mx``, ``ptr``, ``exists`` and ``redirect``, nested to any depth, each include target once per
path with a loop guard) and the void lookups (NXDOMAIN or no record). pyspf stays the
reference: tests/dns/test_spf_pyspf.py evaluates the same records with it on the same test DNS
and checks that it fails with "Too many DNS lookups" exactly when this count is above ten.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from wizard.profile import ProviderProfile

from .model import Finding, Severity, normalize_host, utc_now, worst
from .resolver import DnsResolver, Lookup

LOOKUP_LIMIT = 10
VOID_LIMIT = 2
MAX_DEPTH = 20  # far beyond any real record; a guard for records built to exhaust us
WALK_CAP = 200  # stop walking after this many counted lookups

DNS_MECHANISMS = ("include", "a", "mx", "ptr", "exists")
_MODIFIER = re.compile(r"^([a-z][a-z0-9_.-]*)=(.*)$", re.I)
_MACRO = re.compile(r"%(?:\{([a-z])(\d*)(r?)([-.+,/_=]*)\}|%|_|-)", re.I)


@dataclass(frozen=True)
class SpfTerm:
    """One term of a record: a mechanism ("~all", "include:x") or a modifier ("redirect=x")."""

    text: str
    name: str  # "include", "a", "all", "redirect", ... (lower case)
    qualifier: str  # "+", "-", "~", "?" ("" for modifiers)
    value: str  # the domain-spec (and CIDR) after ":" or "=", "" when none
    modifier: bool

    @property
    def counts(self) -> bool:
        """Costs one of the ten DNS lookups."""
        return self.name in DNS_MECHANISMS or self.name == "redirect"

    @property
    def key(self) -> str:
        """For spotting the same term twice ("+mx" and "mx" are the same)."""
        return self.text.lower().lstrip("+")


@dataclass(frozen=True)
class SpfLookupStep:
    """One counted (or void) lookup on the way through the record and its includes."""

    term: str  # as written, e.g. "include:_spf.example.net"
    within: str  # the domain whose record holds the term
    target: str  # the name asked about ("" when not asked)
    depth: int  # 0 for the domain's own record
    counted: bool
    void: bool
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "within": self.within,
            "target": self.target,
            "depth": self.depth,
            "counted": self.counted,
            "void": self.void,
            "note": self.note,
        }


@dataclass(frozen=True)
class SpfCheck:
    """The SPF record(s) of ``domain``, the lookups they need and the record to publish."""

    domain: str
    records: tuple[str, ...]  # every v=spf1 TXT record found (exactly one is right)
    lookup_count: int  # DNS lookups the current record(s) need (limit 10)
    void_count: int  # lookups that found nothing (limit 2)
    steps: tuple[SpfLookupStep, ...]
    include: str  # the provider's include mechanism, "include:spf.provider.net"
    include_present: bool
    recommended: str  # the merged record to publish, ready to copy
    recommended_lookup_count: int
    findings: tuple[Finding, ...]
    txt: Lookup
    checked_at: str

    kind = "dns.spf"

    @property
    def ok(self) -> bool:
        return worst(self.findings) is not Severity.ERROR

    @property
    def record(self) -> str | None:
        """The one SPF record, or None when there are none or several."""
        return self.records[0] if len(self.records) == 1 else None

    @property
    def needs_change(self) -> bool:
        """The published record differs from the recommendation."""
        return self.record is None or self.record.split() != self.recommended.split()

    @property
    def summary(self) -> str:
        errors = [f for f in self.findings if f.must_fix]
        if errors:
            return f"SPF of {self.domain}: {errors[0].message}"
        return (
            f"SPF of {self.domain} includes the provider and needs "
            f"{self.lookup_count} of {LOOKUP_LIMIT} lookups"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "records": list(self.records),
            "lookup_count": self.lookup_count,
            "lookup_limit": LOOKUP_LIMIT,
            "void_count": self.void_count,
            "void_limit": VOID_LIMIT,
            "steps": [s.to_dict() for s in self.steps],
            "include": self.include,
            "include_present": self.include_present,
            "recommended": self.recommended,
            "recommended_lookup_count": self.recommended_lookup_count,
            "findings": [f.to_dict() for f in self.findings],
            "txt": self.txt.to_dict(),
            "checked_at": self.checked_at,
        }


def is_spf(text: str) -> bool:
    lowered = text.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


def txt_strings(lookup: Lookup) -> list[str]:
    """Each TXT record of the answer as one string (its character-strings joined)."""
    return [b"".join(r.strings).decode("utf-8", errors="replace") for r in lookup.rdata]


def parse_record(text: str) -> list[SpfTerm]:
    """The terms after "v=spf1"; unknown words become terms named as written (flagged later)."""
    terms: list[SpfTerm] = []
    for word in text.split()[1:]:
        modifier = _MODIFIER.match(word)
        if modifier and ":" not in modifier.group(1):
            terms.append(SpfTerm(word, modifier.group(1).lower(), "", modifier.group(2), True))
            continue
        qualifier = word[0] if word[0] in "+-~?" else ""
        body = word[1:] if qualifier else word
        name, _sep, value = _split_mechanism(body)
        terms.append(SpfTerm(word, name.lower(), qualifier or "+", value, False))
    return terms


def _split_mechanism(body: str) -> tuple[str, str, str]:
    for i, char in enumerate(body):
        if char in ":/":
            return body[:i], char, body[i + 1 :] if char == ":" else body[i:]
    return body, "", ""


def _domain_spec(term: SpfTerm, current: str) -> tuple[str, str]:
    """The name a term asks about (macros expanded where they do not depend on the message)
    and a note when it cannot be known without a message."""
    spec = term.value
    if term.name in ("a", "mx") or (term.name == "ptr"):
        spec = spec.split("/", 1)[0] if spec else ""
    if not spec:
        return current, ""
    unknown: list[str] = []

    def expand(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "%%":
            return "%"
        if whole == "%_":
            return " "
        if whole == "%-":
            return "%20"
        letter = match.group(1).lower()
        if letter in ("d", "o") and not match.group(2) and not match.group(3):
            return current
        unknown.append(whole)
        return whole

    expanded = _MACRO.sub(expand, spec)
    if unknown:
        return expanded, f"depends on the message ({', '.join(unknown)}); counted, not asked"
    return normalize_host(expanded), ""


class _Walker:
    """Counts the lookups of a record through its includes and redirect, asking each name once."""

    def __init__(self, resolver: DnsResolver) -> None:
        self.resolver = resolver
        self.cache: dict[tuple[str, str], Lookup] = {}
        self.steps: list[SpfLookupStep] = []
        self.findings: list[Finding] = []
        self.count = 0
        self.void = 0
        self.stopped = False

    def ask(self, name: str, rdtype: str) -> Lookup:
        key = (name, rdtype)
        if key not in self.cache:
            self.cache[key] = self.resolver.query(name, rdtype)
        return self.cache[key]

    def spf_records(self, domain: str) -> tuple[list[str], Lookup]:
        found = self.ask(domain, "TXT")
        return ([t for t in txt_strings(found) if is_spf(t)] if found.ok else []), found

    def step(self, term: SpfTerm, within: str, target: str, depth: int, **kw: Any) -> None:
        void = bool(kw.get("void"))
        if void:
            self.void += 1
        self.steps.append(SpfLookupStep(term.text, within, target, depth, term.counts, **kw))

    def walk(self, domain: str, record: str, depth: int, chain: tuple[str, ...]) -> None:
        terms = parse_record(record)
        has_all = any(t.name == "all" and not t.modifier for t in terms)
        for term in terms:
            if term.name == "redirect" and has_all:
                continue  # RFC 7208 6.1: redirect is ignored when the record has "all"
            if self.stopped:
                return
            if term.counts:
                self.count += 1
                if self.count > WALK_CAP:
                    self.stopped = True
                    self.findings.append(
                        Finding(
                            "spf.walk_stopped",
                            Severity.ERROR,
                            f"Stopped counting after {WALK_CAP} lookups: the record tree is far "
                            "too large",
                            "Rewrite the record with far fewer includes.",
                        )
                    )
                    return
            self.term(term, domain, depth, chain)

    def term(self, term: SpfTerm, domain: str, depth: int, chain: tuple[str, ...]) -> None:
        name = term.name
        if name in ("include", "redirect"):
            target, note = _domain_spec(term, domain)
            if note:
                self.step(term, domain, target, depth, void=False, note=note)
                return
            if target in chain or depth + 1 > MAX_DEPTH:
                path = " → ".join((*chain, target))
                self.step(term, domain, target, depth, void=False, note="loop: not followed")
                self.findings.append(
                    Finding(
                        "spf.loop",
                        Severity.ERROR,
                        f"SPF include loop: {path}",
                        f"Remove the {name} of {target} from the record of {domain}.",
                        {"path": [*chain, target]},
                    )
                )
                return
            records, found = self.spf_records(target)
            if found.failed:
                self.step(term, domain, target, depth, void=False, note=found.state.label)
                self.findings.append(
                    Finding(
                        "spf.lookup_failed",
                        Severity.WARNING,
                        f"Could not read the SPF record of {target} ({found.state.label}); "
                        "the count may be too low",
                        "Check again when the servers answer.",
                    )
                )
                return
            if not records:
                self.step(term, domain, target, depth, void=found.empty, note="no SPF record")
                self.findings.append(
                    Finding(
                        "spf.include_without_spf",
                        Severity.ERROR,
                        f"{term.text} in the record of {domain} names {target}, which has no SPF "
                        "record: receivers treat the whole record as broken (permerror)",
                        f"Remove {term.text} or fix the record of {target}.",
                        {"target": target},
                    )
                )
                return
            self.step(term, domain, target, depth, void=False)
            if len(records) > 1:
                self.findings.append(
                    Finding(
                        "spf.include_multiple",
                        Severity.ERROR,
                        f"{target} (reached by {term.text}) publishes {len(records)} SPF records "
                        "(permerror)",
                        f"Ask the owner of {target} to publish one record.",
                    )
                )
            self.walk(target, records[0], depth + 1, (*chain, target))
        elif name == "a":
            target, note = _domain_spec(term, domain)
            if note:
                self.step(term, domain, target, depth, void=False, note=note)
                return
            found = self.ask(target, "A")
            if found.empty:
                found = self.ask(target, "AAAA")
            self.step(term, domain, target, depth, void=found.empty, note=_note(found))
        elif name == "mx":
            target, note = _domain_spec(term, domain)
            if note:
                self.step(term, domain, target, depth, void=False, note=note)
                return
            found = self.ask(target, "MX")
            self.step(term, domain, target, depth, void=found.empty, note=_note(found))
            if found.ok and len(found.records) > LOOKUP_LIMIT:
                self.findings.append(
                    Finding(
                        "spf.mx_too_many",
                        Severity.ERROR,
                        f"{term.text} in the record of {domain}: {target} has "
                        f"{len(found.records)} MX hosts, more than {LOOKUP_LIMIT} (permerror)",
                        "Use ip4:/ip6: for those hosts instead of mx.",
                    )
                )
        elif name == "ptr":
            self.step(term, domain, "", depth, void=False, note="depends on the sending address")
            self.findings.append(
                Finding(
                    "spf.ptr",
                    Severity.WARNING,
                    f"The record of {domain} uses {term.text}: slow, unreliable and discouraged "
                    "by RFC 7208 (many receivers ignore it)",
                    "Replace ptr with the senders' ip4:/ip6: ranges or their include.",
                )
            )
        elif name == "exists":
            target, note = _domain_spec(term, domain)
            if note:
                self.step(term, domain, target, depth, void=False, note=note)
                return
            found = self.ask(target, "A")
            self.step(term, domain, target, depth, void=found.empty, note=_note(found))
        elif name == "all":
            if term.qualifier == "+":
                self.findings.append(
                    Finding(
                        "spf.plus_all",
                        Severity.ERROR,
                        f"The record of {domain} ends in {term.text}: it allows every server on "
                        "the internet to send as this domain",
                        "End the record with ~all (or -all once every sender is listed).",
                    )
                )
            elif term.qualifier == "?" and depth == 0:
                self.findings.append(
                    Finding(
                        "spf.neutral_all",
                        Severity.INFO,
                        f"The record of {domain} ends in ?all: it says nothing about other senders",
                        "Prefer ~all once the provider is included.",
                    )
                )
        elif not term.modifier and name not in ("ip4", "ip6"):
            self.findings.append(
                Finding(
                    "spf.syntax",
                    Severity.ERROR,
                    f"The record of {domain} holds {term.text!r}, which is not an SPF mechanism "
                    "(permerror)",
                    "Remove or correct that term.",
                )
            )


def _note(found: Lookup) -> str:
    if found.failed:
        return found.state.label
    return "nothing found (void lookup)" if found.empty else ""


def merge_records(records: list[str] | tuple[str, ...], include: str) -> str:
    """One record with every sender of ``records``, the provider's include and a safe "all".

    Duplicates go, the provider's include is added before "all" when missing, ``+all``/``?all``
    become ``~all`` (``-all`` stays), and a redirect is kept only when no "all" ends the record.
    """
    mechanisms: list[SpfTerm] = []
    modifiers: list[SpfTerm] = []
    alls: list[SpfTerm] = []
    seen: set[str] = set()
    for record in records:
        for term in parse_record(record):
            if term.key in seen:
                continue
            seen.add(term.key)
            if term.modifier:
                if not any(m.name == term.name for m in modifiers):
                    modifiers.append(term)
            elif term.name == "all":
                alls.append(term)
            else:
                mechanisms.append(term)
    words = [t.text for t in mechanisms]
    if include.lower() not in {t.key for t in mechanisms}:
        words.append(include)
    redirect = [m for m in modifiers if m.name == "redirect"]
    others = [m.text for m in modifiers if m.name != "redirect"]
    if alls or not redirect:
        qualifiers = {t.qualifier for t in alls}
        words.append("-all" if "-" in qualifiers else "~all")
    else:
        words.extend(m.text for m in redirect)
    return " ".join(["v=spf1", *words, *others])


def count_lookups(
    resolver: DnsResolver, domain: str, record: str
) -> tuple[int, int, list[SpfLookupStep], list[Finding]]:
    """Lookups and void lookups ``record`` would need if published at ``domain``."""
    walker = _Walker(resolver)
    walker.walk(normalize_host(domain), record, 0, (normalize_host(domain),))
    return walker.count, walker.void, walker.steps, walker.findings


def check_spf(resolver: DnsResolver, domain: str, profile: ProviderProfile) -> SpfCheck:
    """Read the SPF record(s) of ``domain``, count lookups, flag problems, recommend a record."""
    domain = normalize_host(domain)
    include = profile.spf_mechanism().lower()
    provider = normalize_host(profile.spf_include)
    walker = _Walker(resolver)
    found, txt = walker.spf_records(domain)
    records = sorted(found)  # servers rotate TXT records; the recommendation must not
    findings: list[Finding] = []
    if txt.failed:
        findings.append(
            Finding(
                "spf.lookup_failed",
                Severity.ERROR,
                f"Could not read the TXT records of {domain}: {txt.state.label}",
                "Check that the DNS servers asked are reachable and try again.",
                {"state": str(txt.state)},
            )
        )
    elif not records:
        findings.append(
            Finding(
                "spf.none",
                Severity.ERROR,
                f"{domain} publishes no SPF record: receivers cannot tell its real senders from "
                "forgeries",
                "Publish the recommended record below.",
            )
        )
    elif len(records) > 1:
        findings.append(
            Finding(
                "spf.multiple",
                Severity.ERROR,
                f"{domain} publishes {len(records)} SPF records; RFC 7208 allows one, so "
                "receivers treat SPF as broken (permerror)",
                "Replace them all with the one merged record below.",
                {"records": records},
            )
        )
    for record in records:
        walker.walk(domain, record, 0, (domain,))
    direct = any(t.key == include for r in records for t in parse_record(r))
    nested = any(s.target == provider and s.depth > 0 for s in walker.steps)
    if records:
        if direct or nested:
            findings.append(
                Finding(
                    "spf.include_present",
                    Severity.OK if direct else Severity.INFO,
                    f"The provider's {include} is in the record"
                    + ("" if direct else " (reached through another include)"),
                )
            )
        else:
            findings.append(
                Finding(
                    "spf.include_missing",
                    Severity.ERROR,
                    f"The record of {domain} lacks the provider's {include}: mail sent through "
                    "the provider may be rejected or marked as spam",
                    "Publish the recommended record below.",
                )
            )
        if walker.count > LOOKUP_LIMIT:
            findings.append(
                Finding(
                    "spf.too_many_lookups",
                    Severity.ERROR,
                    f"The record needs {walker.count} DNS lookups; RFC 7208 allows "
                    f"{LOOKUP_LIMIT}, so receivers fail SPF (permerror)",
                    "Remove includes of services no longer used, or replace some with ip4:/ip6:.",
                    {"count": walker.count},
                )
            )
        else:
            findings.append(
                Finding(
                    "spf.lookup_count",
                    Severity.OK,
                    f"The record needs {walker.count} of {LOOKUP_LIMIT} allowed DNS lookups",
                    data={"count": walker.count},
                )
            )
        if walker.void > VOID_LIMIT:
            findings.append(
                Finding(
                    "spf.too_many_void_lookups",
                    Severity.ERROR,
                    f"{walker.void} lookups of the record find nothing; more than {VOID_LIMIT} "
                    "make receivers fail SPF (permerror)",
                    "Remove the terms that name hosts or domains that no longer exist.",
                    {"count": walker.void},
                )
            )
        elif walker.void:
            findings.append(
                Finding(
                    "spf.void_lookups",
                    Severity.WARNING,
                    f"{walker.void} lookup(s) of the record find nothing (up to {VOID_LIMIT} "
                    "allowed)",
                    "Remove the terms that name hosts or domains that no longer exist.",
                    {"count": walker.void},
                )
            )
    findings.extend(_dedupe(walker.findings))
    recommended = merge_records(records, include)
    rec_count, _void, _steps, _found = count_lookups(resolver, domain, recommended)
    if rec_count > LOOKUP_LIMIT:
        findings.append(
            Finding(
                "spf.recommended_too_many",
                Severity.WARNING,
                f"Even the recommended record needs {rec_count} lookups (limit {LOOKUP_LIMIT})",
                "Drop senders the customer no longer uses (often the old mail host's include) "
                "before publishing it.",
                {"count": rec_count},
            )
        )
    if records and len(recommended) > 255:
        findings.append(
            Finding(
                "spf.long_record",
                Severity.INFO,
                f"The recommended record is {len(recommended)} characters long",
                "Enter it as several quoted strings of at most 255 characters each.",
            )
        )
    findings.sort(key=lambda f: -f.severity.rank)
    return SpfCheck(
        domain=domain,
        records=tuple(records),
        lookup_count=walker.count,
        void_count=walker.void,
        steps=tuple(walker.steps),
        include=include,
        include_present=direct or nested,
        recommended=recommended,
        recommended_lookup_count=rec_count,
        findings=tuple(findings),
        txt=txt,
        checked_at=utc_now(),
    )


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for finding in findings:
        if (finding.code, finding.message) not in seen:
            seen.add((finding.code, finding.message))
            unique.append(finding)
    return unique
