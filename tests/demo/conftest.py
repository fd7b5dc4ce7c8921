"""Demo fixtures: the generated company (once per run), its IMAP server, all demo servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wizard.devservers.demo import (
    DemoCompany,
    DemoImapServer,
    DemoServers,
    PropagationPlan,
    generate_company,
)
from wizard.devservers.demo.tls import make_certificate

# The demo's MX change, a hundred times faster than in `onboard --demo`.
FAST_PLAN = PropagationPlan().scaled(0.01)


@pytest.fixture(scope="session")
def demo_company() -> DemoCompany:
    return generate_company()


@pytest.fixture(scope="module")
def demo_imap(
    demo_company: DemoCompany, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoImapServer]:
    """The demo IMAP server over implicit TLS; its ``fingerprint`` pins the certificate."""
    certificate = make_certificate(tmp_path_factory.mktemp("demo-tls"))
    with DemoImapServer(demo_company, certificate=certificate) as server:
        yield server


@pytest.fixture
def demo_servers(demo_company: DemoCompany, tmp_path: Path) -> Iterator[DemoServers]:
    """Every demo server (IMAP, EWS stand-in, DNS) for one test, with a fast MX change."""
    with DemoServers(demo_company, state_dir=tmp_path / "demo", plan=FAST_PLAN) as servers:
        yield servers
