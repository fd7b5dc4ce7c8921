"""`onboard check dns`: what an operator reads, the JSON a script reads, and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dns.conftest import DOMAIN, DnsWorld
from tests.servers.knot import SilentServer
from wizard.cli import main
from wizard.profile import example_profile

GOOD = """
@ MX 10 mx1.hosted.example.net.
@ MX 20 mx2.hosted.example.net.
@ TXT "v=spf1 ip4:192.0.2.0/24 include:spf.hosted.example.net -all"
autodiscover CNAME autodiscover.hosted.example.net.
_autodiscover._tcp SRV 0 0 443 autodiscover.hosted.example.net.
"""
BAD = """
@ MX 10 mail.oldhost.example.
@ TXT "v=spf1 mx include:_spf.oldhost.example +all"
@ TXT "v=spf1 ip4:192.0.2.7 -all"
"""
OLDHOST = '_spf TXT "v=spf1 ip4:203.0.113.0/24 ~all"\nmail A 203.0.113.5\n'


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check", "dns", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_all_good_exits_zero(dns_world: DnsWorld, capsys: pytest.CaptureFixture[str]) -> None:
    server, _ = dns_world(GOOD)
    code, out, _err = run([DOMAIN, "--resolver", server.address], capsys)
    assert code == 0
    assert f"DNS checks for {DOMAIN} (asked: {server.address})" in out
    assert "Every MX host of customer.example is the provider's" in out
    assert "[autodiscover.srv_ok]" in out
    assert "DNS lookups: 1 of 10" in out
    assert "(the published record already matches)" in out
    assert out.rstrip().endswith("Nothing to fix.")


def test_problems_exit_one_with_the_record_to_publish(
    dns_world: DnsWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = dns_world(BAD, oldhost_example=OLDHOST)
    code, out, _err = run([DOMAIN, "--resolver", server.address], capsys)
    assert code == 1
    assert "FIX   MX of customer.example still points at the old mail server" in out
    assert "[spf.multiple]" in out and "[spf.plus_all]" in out
    recommended = (
        "v=spf1 ip4:192.0.2.7 mx include:_spf.oldhost.example include:spf.hosted.example.net -all"
    )
    assert f"Recommended SPF record (TXT at {DOMAIN}):\n  {recommended}\n" in out
    assert "thing(s) to fix: mx.still_old" in out


def test_json_carries_codes_and_the_lookup_count(
    dns_world: DnsWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = dns_world(BAD, oldhost_example=OLDHOST)
    code, out, _err = run([DOMAIN, "--resolver", server.address, "--json"], capsys)
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False
    assert data["spf_lookup_count"] == 2 == data["spf"]["lookup_count"]
    assert data["spf"]["records"] == [
        "v=spf1 ip4:192.0.2.7 -all",
        "v=spf1 mx include:_spf.oldhost.example +all",
    ]
    codes = {f["code"]: f["severity"] for f in data["findings"]}
    assert codes["mx.still_old"] == "error"
    assert codes["spf.multiple"] == "error"
    assert codes["spf.plus_all"] == "error"
    assert codes["spf.include_missing"] == "error"
    assert codes["autodiscover.missing"] == "error"
    assert data["mx"]["status"] == "still_old"
    assert data["recommended_spf"].endswith("include:spf.hosted.example.net -all")


def test_third_party_filter_keeps_mx_on_the_filter(
    dns_world: DnsWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    server, _ = dns_world(
        GOOD.replace("mx1.hosted.example.net", "in.filter.example").replace(
            "@ MX 20 mx2.hosted.example.net.\n", ""
        )
    )
    code, _out, _err = run([DOMAIN, "--resolver", server.address], capsys)
    assert code == 1
    code, out, _err = run([DOMAIN, "--resolver", server.address, "--third-party-filter"], capsys)
    assert code == 0
    assert "[mx.filtering_kept]" in out


def test_profile_file_is_used(
    dns_world: DnsWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = example_profile().toml_text.replace("spf.hosted.example.net", "spf.other.example")
    path = tmp_path / "provider.toml"
    path.write_text(text, encoding="utf-8")
    server, _ = dns_world(GOOD)
    code, out, _err = run([DOMAIN, "--resolver", server.address, "--profile", str(path)], capsys)
    assert code == 1
    assert "lacks the provider's include:spf.other.example" in out


def test_bad_resolver_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run([DOMAIN, "--resolver", "dns.example"], capsys)
    assert code == 2
    assert "'dns.example' is not an IP address" in err


def test_silent_server_exits_unreachable(
    silent_dns: SilentServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _err = run(
        [DOMAIN, "--resolver", silent_dns.address, "--timeout", "0.2", "--json"], capsys
    )
    assert code == 6
    data = json.loads(out)
    assert data["mx"]["lookup"]["state"] == "timeout"
    assert "mx.lookup_failed" in {f["code"] for f in data["findings"]}


def test_installed_command(dns_world: DnsWorld) -> None:
    server, _ = dns_world(GOOD)
    onboard = Path(sys.executable).with_name("onboard")
    result = subprocess.run(
        [str(onboard), "check", "dns", DOMAIN, "--resolver", server.address, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["spf_lookup_count"] == 1
