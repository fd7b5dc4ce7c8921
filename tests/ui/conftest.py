"""The demo's fixtures for the UI tests that walk the demo session (its servers on 127.0.0.1)."""

from tests.demo.conftest import demo_company, demo_servers  # noqa: F401 - fixtures
