"""Provider facts come from a TOML profile, validated with messages that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard.profile import ProfileError, example_profile, load_profile, parse_profile


def test_example_profile_carries_every_provider_fact() -> None:
    profile = example_profile()
    assert profile.name == "Example Hosted Exchange"
    assert profile.mx_hosts == ("mx1.hosted.example.net", "mx2.hosted.example.net")
    assert profile.spf_mechanism() == "include:spf.hosted.example.net"
    assert profile.autodiscover_target == "autodiscover.hosted.example.net"
    assert profile.ews_url.startswith("https://") and profile.owa_url.startswith("https://")
    assert [a.id for a in profile.addons] == ["activesync", "blackberry", "im", "archiving"]
    assert profile.support.email


def test_missing_key_is_named(tmp_path: Path) -> None:
    text = example_profile().toml_text.replace('spf_include = "spf.hosted.example.net"\n', "")
    bad = tmp_path / "p.toml"
    bad.write_text(text)
    with pytest.raises(ProfileError, match=r"p.toml \[mail\]: 'spf_include' is missing"):
        load_profile(bad)


def test_bad_host_and_url_are_named() -> None:
    text = example_profile().toml_text.replace("mx1.hosted.example.net", "not a host!")
    with pytest.raises(ProfileError, match=r"mx #1 host: 'not a host!' is not a host name"):
        parse_profile(text, "x.toml")
    text = example_profile().toml_text.replace("https://webmail", "ftp://webmail")
    with pytest.raises(ProfileError, match="owa_url"):
        parse_profile(text, "x.toml")


def test_unreadable_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read provider profile"):
        load_profile(tmp_path / "missing.toml")
