"""Provider profile: every fact about the hosting provider, read from TOML, never from code."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


class ProfileError(ValueError):
    """The provider profile is missing something or holds a bad value; the message says which."""


_HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$", re.I)


@dataclass(frozen=True)
class MxHost:
    host: str
    preference: int


@dataclass(frozen=True)
class AddOn:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class SupportContact:
    email: str
    phone: str
    url: str


@dataclass(frozen=True)
class ProviderProfile:
    name: str
    mx: tuple[MxHost, ...]
    spf_include: str
    autodiscover_target: str
    ews_url: str
    owa_url: str
    activesync_host: str
    control_panel_url: str
    max_message_mb: int
    addons: tuple[AddOn, ...]
    support: SupportContact
    source: str = ""
    toml_text: str = ""

    @property
    def mx_hosts(self) -> tuple[str, ...]:
        return tuple(m.host for m in self.mx)

    def spf_mechanism(self) -> str:
        return f"include:{self.spf_include}"


def _require(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table or table[key] in ("", None, []):
        raise ProfileError(f"{where}: '{key}' is missing")
    return table[key]


def _host(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HOST_RE.match(value):
        raise ProfileError(f"{where}: {value!r} is not a host name")
    return value.rstrip(".").lower()


def _url(value: Any, where: str, *, schemes: tuple[str, ...] = ("https", "http")) -> str:
    parsed = urlparse(str(value))
    if parsed.scheme not in schemes or not parsed.hostname:
        raise ProfileError(f"{where}: {value!r} is not an {' or '.join(schemes)} URL")
    return str(value)


def parse_profile(text: str, source: str = "<profile>") -> ProviderProfile:
    """Parse and validate a profile; every error names the file and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{source}: not valid TOML: {exc}") from None
    provider = _require(data, "provider", source)
    mail = _require(data, "mail", source)
    name = str(_require(provider, "name", f"{source} [provider]")).strip()
    raw_mx = _require(mail, "mx", f"{source} [mail]")
    if not isinstance(raw_mx, list):
        raise ProfileError(f"{source} [mail]: 'mx' must be a list of {{host, preference}}")
    mx: list[MxHost] = []
    for i, entry in enumerate(raw_mx, start=1):
        where = f"{source} [mail] mx #{i}"
        if not isinstance(entry, dict):
            raise ProfileError(f"{where}: expected {{ host = ..., preference = ... }}")
        pref = entry.get("preference", 10)
        if not isinstance(pref, int) or not 0 <= pref <= 65535:
            raise ProfileError(f"{where}: preference must be a number from 0 to 65535")
        mx.append(MxHost(_host(_require(entry, "host", where), f"{where} host"), pref))
    support = provider.get("support", {})
    addons: list[AddOn] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("addons", []), start=1):
        where = f"{source} [[addons]] #{i}"
        addon_id = str(_require(entry, "id", where))
        if addon_id in seen:
            raise ProfileError(f"{where}: add-on id {addon_id!r} appears twice")
        seen.add(addon_id)
        addons.append(
            AddOn(addon_id, str(_require(entry, "name", where)), str(entry.get("description", "")))
        )
    max_mb = mail.get("max_message_mb", 48)
    if not isinstance(max_mb, int) or max_mb <= 0:
        raise ProfileError(f"{source} [mail]: max_message_mb must be a positive whole number")
    return ProviderProfile(
        name=name,
        mx=tuple(mx),
        spf_include=_host(
            _require(mail, "spf_include", f"{source} [mail]"), f"{source} spf_include"
        ),
        autodiscover_target=_host(
            _require(mail, "autodiscover_target", f"{source} [mail]"),
            f"{source} autodiscover_target",
        ),
        ews_url=_url(_require(mail, "ews_url", f"{source} [mail]"), f"{source} ews_url"),
        owa_url=_url(_require(mail, "owa_url", f"{source} [mail]"), f"{source} owa_url"),
        activesync_host=_host(
            mail.get("activesync_host", _require(mail, "autodiscover_target", source)),
            f"{source} activesync_host",
        ),
        control_panel_url=_url(
            provider.get("control_panel_url", mail["owa_url"]), f"{source} control_panel_url"
        ),
        max_message_mb=max_mb,
        addons=tuple(addons),
        support=SupportContact(
            email=str(support.get("email", "")),
            phone=str(support.get("phone", "")),
            url=str(support.get("url", "")),
        ),
        source=source,
        toml_text=text,
    )


def load_profile(path: Path | str | None = None) -> ProviderProfile:
    """Load a profile file, or the shipped neutral example when no path is given."""
    if path is None:
        return example_profile()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read provider profile {path}: {exc.strerror}") from None
    return parse_profile(text, str(path))


def example_profile() -> ProviderProfile:
    text = resources.files("wizard").joinpath("profiles/example.toml").read_text(encoding="utf-8")
    return parse_profile(text, "example profile")
