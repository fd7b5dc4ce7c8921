"""`onboard check dns DOMAIN`: MX, Autodiscover and SPF of a domain, headless."""

from __future__ import annotations

import argparse

from wizard.cliutil import Exit, fail, print_json
from wizard.forms import check_domain
from wizard.profile import ProfileError, load_profile

from .checks import DomainReport
from .checks import check_domain as check_dns
from .model import Finding, Severity
from .resolver import DnsConfigError, DnsResolver

_MARK = {
    Severity.OK: "ok   ",
    Severity.INFO: "info ",
    Severity.WARNING: "warn ",
    Severity.ERROR: "FIX  ",
}


def cmd_check_dns(args: argparse.Namespace) -> int:
    try:
        domain = check_domain(args.domain)  # before any question is sent
    except ValueError as exc:
        fail(str(exc), Exit.USAGE)
    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        fail(str(exc), Exit.USAGE)
    if args.timeout <= 0:
        fail("--timeout must be more than 0 seconds", Exit.USAGE)
    try:
        resolver = DnsResolver(args.resolver or None, timeout=args.timeout)
    except DnsConfigError as exc:
        fail(str(exc), Exit.USAGE)
    report = check_dns(resolver, domain, profile, third_party_filter=args.third_party_filter)
    if args.json:
        print_json(report.to_dict())
    else:
        print_report(report)
    if report.mx.lookup.failed and report.spf.txt.failed and report.autodiscover.cname.failed:
        return Exit.UNREACHABLE
    return Exit.PROBLEMS if report.must_fix else Exit.OK


def _print_findings(findings: tuple[Finding, ...]) -> None:
    for finding in findings:
        print(f"  {_MARK[finding.severity]} {finding.message}  [{finding.code}]")
        if finding.advice and finding.severity is not Severity.OK:
            print(f"         → {finding.advice}")


def print_report(report: DomainReport) -> None:
    print(f"DNS checks for {report.domain} (asked: {', '.join(report.servers)})")
    print()
    mx = report.mx
    print("MX" + (" (third-party filtering kept in front)" if mx.third_party_filter else ""))
    if mx.records:
        shown = ", ".join(
            f"{r.preference} {r.host}" + (" (provider)" if r.provider else "") for r in mx.records
        )
        print(f"  records: {shown}")
    _print_findings(mx.findings)
    print()
    ad = report.autodiscover
    print("Autodiscover")
    _print_findings(ad.findings)
    print(f"  Outlook: {ad.outlook_finds()}")
    print()
    spf = report.spf
    print("SPF")
    for record in spf.records:
        print(f"  record: {record}")
    if spf.records:
        print(f"  DNS lookups: {spf.lookup_count} of 10, void lookups: {spf.void_count} of 2")
    _print_findings(spf.findings)
    print()
    print("Recommended SPF record (TXT at " + report.domain + "):")
    print(f"  {spf.recommended}")
    if spf.records and not spf.needs_change:
        print("  (the published record already matches)")
    print()
    errors = [f for f in report.findings if f.must_fix]
    if errors:
        print(f"{len(errors)} thing(s) to fix: " + ", ".join(f.code for f in errors))
    else:
        print("Nothing to fix.")
