"""A package's public names imported from its submodules on first use (PEP 562).

An engine package (``wizard.imap``, ``wizard.exchange`` ...) re-exports its API at the top, but
importing one light submodule of it (a settings enum the command line's parser needs) must not load
the whole engine and the libraries behind it::

    __getattr__, __all__ = lazy_exports(__name__, {".settings": ("AuthMode", "Security")})

``from wizard.imap import AuthMode`` then imports ``wizard.imap.settings`` only when asked.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], list[str]]:
    """The package's module ``__getattr__`` and its ``__all__`` for ``exports``: submodule
    (relative, e.g. ``".settings"``) -> the names it provides."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # asked once: later look-ups are plain
        return value

    return __getattr__, sorted(where)
