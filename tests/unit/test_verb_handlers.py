"""Every verb the parser knows runs a handler that exists: the handlers are named by module and
function (imported when the verb runs), so a misspelt name must fail here, not in the field."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from wizard.cli import build_parser
from wizard.cliutil import VerbHandler


def verbs(parser: argparse.ArgumentParser, path: str = "onboard") -> Iterator[tuple[str, object]]:
    """(command line, handler) of every verb and sub-verb below ``parser``."""
    for action in parser._actions:  # noqa: SLF001 - argparse lists sub-parsers nowhere else
        if isinstance(action, argparse._SubParsersAction):  # noqa: SLF001
            for name, sub in action.choices.items():
                handler = sub.get_default("handler")
                if handler is not None:
                    yield f"{path} {name}", handler
                yield from verbs(sub, f"{path} {name}")


def test_every_engine_verb_names_a_handler_that_imports() -> None:
    found = dict(verbs(build_parser()))
    lazy = {line: h for line, h in found.items() if isinstance(h, VerbHandler)}
    assert {"onboard copy", "onboard verify", "onboard check imap", "onboard check ews"} <= set(
        lazy
    )
    assert {"onboard check dns", "onboard sandbox ews", "onboard mailboxes import"} <= set(lazy)
    for line, handler in lazy.items():
        assert callable(handler.resolve()), f"{line}: {handler.module}.{handler.function}"
