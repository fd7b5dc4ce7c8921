"""Step screens and step bodies. Importing this package registers every body module below."""

from __future__ import annotations

import importlib

# One module per engine-backed step body; each registers itself with ``register_body``.
BODY_MODULES: list[str] = [
    "screens.steps.guided",
    "screens.steps.migration_plan",
    "screens.steps.signoff",
    "screens.steps.copy",
    "screens.steps.verify",
    "screens.steps.source_settings",
    "screens.steps.dns",
    "screens.steps.propagation",
    "screens.steps.spf",
    "screens.steps.connection",
    "screens.steps.confirm",
]


def load_bodies() -> None:
    for name in BODY_MODULES:
        importlib.import_module(name)
