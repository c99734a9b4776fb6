"""Every drill scenario has a runbook, runbooks/<scenario>.md, whose steps are the drill's steps both
ways: each `### `step-id`` heading is a step of the scenario, under the section of its phase, and each
step has one; the local commands the drill's plan prints are the ones the runbook shows."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from scaleplane.drills.aws import drilling as aws_drilling
from scaleplane.drills.engine import scenarios, steps
from scaleplane.drills.kubernetes import drilling as kubernetes_drilling
from scaleplane.local.ha.drills import drilling

RUNBOOKS = Path(__file__).parents[2] / "runbooks"
SECTION = re.compile(r"^## (?:Drill: )?(.+)$")
STEP = re.compile(r"^### `([a-z0-9-]+)`$")


def runbook_steps(text: str) -> list[tuple[str, str, str]]:
    """(phase, step id, body) for every step heading, in order."""
    found: list[tuple[str, str, list[str]]] = []
    phase = ""
    for line in text.splitlines():
        if section := SECTION.match(line):
            phase = section.group(1).strip().lower()
        elif step := STEP.match(line):
            found.append((phase, step.group(1), []))
        elif found:
            found[-1][2].append(line)
    return [(p, i, "\n".join(body)) for p, i, body in found]


@pytest.mark.parametrize("scenario", list(scenarios.SCENARIOS.values()), ids=lambda s: s.name)
def test_runbook_steps_map_to_drill_steps_and_back(scenario: steps.Scenario) -> None:
    path = RUNBOOKS / f"{scenario.name}.md"
    assert path.is_file(), f"{path} is missing: every scenario has a runbook"
    found = runbook_steps(path.read_text())
    ids = [step_id for _, step_id, _ in found]
    assert sorted(ids) == sorted(s.id for s in scenario.all_steps), f"{path}: steps differ from the drill's"
    assert len(ids) == len(set(ids)), f"{path}: a step appears twice"
    for phase, step_id, _ in found:
        assert phase == str(scenario.step(step_id).phase), f"{path}: {step_id} is under '{phase}'"
    # in the drill's order, so the runbook reads as the drill runs
    assert ids == [s.id for s in scenario.all_steps]


BACKENDS = [
    drilling.LocalBackend,
    kubernetes_drilling.KubernetesBackend,
    *(functools.partial(aws_drilling.AwsBackend, kind=kind) for kind in aws_drilling.KINDS),
]


@pytest.mark.parametrize("scenario", list(scenarios.SCENARIOS.values()), ids=lambda s: s.name)
def test_runbook_shows_the_commands_every_backend_plans(scenario: steps.Scenario) -> None:
    text = (RUNBOOKS / f"{scenario.name}.md").read_text()
    bodies = {step_id: body for _, step_id, body in runbook_steps(text)}
    for make in BACKENDS:
        backend = make(scenario=scenario.name)
        if not backend.supports(scenario.name):  # e.g. aws kind read-replica has no restore
            continue
        for step in scenario.all_steps:
            for command in backend.commands(step.id):
                assert command in bodies[step.id], (
                    f"{scenario.name} {step.id}: runbook lacks the {backend.target} command `{command}`"
                )


def test_a_heading_that_is_no_step_is_caught() -> None:
    text = "## Act\n\n### `await-promotion`\nok\n\n### `page-the-dba`\nnot a drill step\n"
    assert [i for _, i, _ in runbook_steps(text)] == ["await-promotion", "page-the-dba"]
