"""Bodies register by step kind only, and every step with a body finds it through its kind."""

from __future__ import annotations

import pytest

from screens.steps import load_bodies
from screens.steps.base import StepBody, body_for, register_body
from wizard.playbook import Kind, default_playbook


def test_a_step_number_is_not_a_kind() -> None:
    with pytest.raises(ValueError, match="'4' is not a valid Kind"):
        register_body("4")(StepBody)  # type: ignore[arg-type]


def test_every_step_but_the_cutover_has_a_body_for_its_kind() -> None:
    load_bodies()
    without = [step.kind for step in default_playbook() if body_for(step) is None]
    assert without == [Kind.CUTOVER]  # its work is in its three parts
