"""DNS checks for steps 8, 11, 12 and 13.2, on dnspython; no Textual (usable headless).

Public API (stable; screens build on it):

Asking servers (``wizard.dns.resolver``)
    ``NameServer(host, port=53, label="")``; ``NameServer.parse("IP[:PORT]" | "Label=IP[:PORT]")``
    ``DnsResolver(servers: Sequence[NameServer | str] | None = None, *, timeout=3.0,
    recursion=True)`` — ``None`` means the system resolver; ``.query(name, rdtype) -> Lookup``.
    ``query_server(server, name, rdtype, *, recursion=True, timeout=3.0) -> Lookup``.
    ``Lookup``: ``state: LookupState`` (answer, no_answer, nxdomain, servfail, refused, timeout,
    unreachable, error), ``records`` (text), ``ttl``, ``soa_serial``, ``authoritative``.
    ``DnsConfigError`` for a bad ``IP[:PORT]`` or no system resolver.

Findings (``wizard.dns.model``)
    ``Finding(code, severity, message, advice, data)`` with a stable ``code`` such as
    "mx.mixed", "autodiscover.srv_missing", "spf.too_many_lookups", "propagation.pending";
    ``Severity`` OK < INFO < WARNING < ERROR; ERROR (``finding.must_fix``) must be fixed.

Checks — every result is a frozen dataclass with ``kind`` (the evidence kind), ``ok``,
``summary``, ``findings``, ``checked_at`` and ``to_dict()``:
    ``check_mx(resolver, domain, profile, *, third_party_filter=False) -> MxCheck``
        ``status: MxStatus`` all_provider / mixed / still_old / filtering / none /
        lookup_failed; ``records: tuple[MxRecord]`` (preference, host, provider).
        With third-party filtering, MX staying on the filter is "mx.filtering_kept" (OK).
    ``check_autodiscover(resolver, domain, profile) -> AutodiscoverCheck``
        ``cname_ok``, ``srv_ok``, ``outlook_finds()`` (what Outlook will find, step 11).
        ``autodiscover.autodiscover_names(domain)`` and ``autodiscover.srv_targets(lookup)``
        (host, port) in SRV order: also what the Exchange engine's Autodiscover client asks.
    ``check_spf(resolver, domain, profile) -> SpfCheck``
        ``records`` (every v=spf1 record), ``lookup_count``, ``void_count``, ``steps`` (each
        counted lookup, nested), ``include_present``, ``recommended`` (the merged record to
        copy), ``recommended_lookup_count``, ``needs_change``.
        ``merge_records(records, include) -> str``; ``count_lookups(resolver, domain, record)``.
        Counting is our own walker over ``DnsResolver`` (not pyspf: it resolves through a
        process-global DNS function and stops at the first match); see ``wizard.dns.spf``.
    ``check_domain(resolver, domain, profile, *, third_party_filter=False) -> DomainReport``
        MX, Autodiscover and SPF at once (what ``onboard check dns`` prints).
    ``records_to_publish(domain, profile, *, third_party_filter=False)
    -> tuple[RecordToPublish]`` — the exact MX/CNAME/SRV records for step 8 (``zone_line()``);
    ``filter_delivery_hosts(profile)``.

Propagation (step 12, ``wizard.dns.propagation``)
    ``mx_question(domain, profile) -> PropagationQuestion``;
    ``question(name, rdtype, expected, zone=None)``.
    ``find_authoritative(resolver, domain, *, host_map=None, port=53)
    -> tuple[list[NameServer], str]`` (servers, note when some were not found).
    ``check_propagation(q, resolvers, authoritative, *, required_share=0.8, timeout=3.0,
    authoritative_note="", sink=ignore) -> PropagationMatrix`` — asks all servers in parallel;
    the sink gets ``Progress(extra={"cell": PropagationCell})`` per server, then ``Done``.
    ``PropagationMatrix``: ``cells`` (``PropagationCell``: server, role, state: CellState,
    answer, ttl, soa_serial, detail, ``shown``), ``authoritative``, ``resolvers``, ``complete``,
    ``summary``, ``findings``. ``CellState.failed`` is true for timeout/SERVFAIL/refused/...
    Session settings: ``resolvers_from_store(store)`` / ``save_resolvers(store, servers)``
    ("dns.resolvers", default ``DEFAULT_RESOLVERS``), ``required_share_from_store(store)``
    ("dns.required_share"), ``authoritative_from_store(store)`` ("dns.authoritative", optional
    fixed list instead of NS discovery).

Evidence
    ``save_evidence(store, step, result) -> Evidence`` for any result above.
"""

from ..lazy_exports import lazy_exports

# Imported on first use: a light submodule (settings, an enum) loads alone.
__getattr__, __all__ = lazy_exports(
    __name__,
    {
        ".autodiscover": ("AutodiscoverCheck", "check_autodiscover"),
        ".checks": ("DomainReport", "check_domain"),
        ".evidence": ("save_evidence",),
        ".model": ("Finding", "Severity", "worst"),
        ".mx": ("MxCheck", "MxRecord", "MxStatus", "check_mx"),
        ".propagation": (
            "AUTHORITATIVE_SETTING",
            "DEFAULT_RESOLVERS",
            "DEFAULT_SHARE",
            "RESOLVERS_SETTING",
            "SHARE_SETTING",
            "CellState",
            "PropagationCell",
            "PropagationMatrix",
            "PropagationQuestion",
            "Role",
            "authoritative_from_store",
            "check_propagation",
            "find_authoritative",
            "mx_question",
            "never",
            "question",
            "required_share_from_store",
            "resolvers_from_store",
            "save_resolvers",
        ),
        ".records": ("RecordToPublish", "filter_delivery_hosts", "records_to_publish"),
        ".resolver": (
            "DnsConfigError",
            "DnsResolver",
            "Lookup",
            "LookupState",
            "NameServer",
            "query_server",
        ),
        ".spf": (
            "LOOKUP_LIMIT",
            "SpfCheck",
            "SpfLookupStep",
            "check_spf",
            "count_lookups",
            "merge_records",
        ),
    },
)
