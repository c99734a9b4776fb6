"""The offline plan: run the Pulumi program under mocks and keep what it would create.

The stack's config is assembled as the CLI would: Pulumi.<stack>.yaml over the defaults declared in
Pulumi.yaml. Object values go in as JSON text, as the engine passes them. Secure values cannot be
decrypted without the CLI and its secrets provider, so they plan as a placeholder.
"""

from __future__ import annotations

import asyncio
import json
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings
from pulumi.runtime import stack as runtime_stack
from pulumi.runtime.sync_await import _sync_await

from scaleplane.infra import mocking, stackfiles

PROGRAM = Path("stacks") / "__main__.py"


PlanError = stackfiles.PlanError


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[mocking.PlannedResource]
    outputs: dict[str, Any]
    secret_outputs: list[str]

    def by_type(self, type_: str) -> list[mocking.PlannedResource]:
        return [resource for resource in self.resources if resource.type == type_]

    def named(self, name: str) -> mocking.PlannedResource:
        matches = [resource for resource in self.resources if resource.name == name]
        if not matches:
            raise KeyError(name)
        return matches[0]


def stack_names(root: Path) -> list[str]:
    return sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in root.glob("Pulumi.*.yaml"))


def stack_config(root: Path, stack: str, stack_file: Path | None = None) -> tuple[str, dict[str, str]]:
    """(project name, the config map the engine would hand the program) for one stack."""
    project_file = root / "Pulumi.yaml"
    if not project_file.is_file():
        raise PlanError(f"no Pulumi.yaml in {root}")
    project, _ = stackfiles.read_yaml(project_file)
    name = str(project.get("name", "scaleplane"))
    path = stack_file or root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(stack_names(root)) or "none"
        raise PlanError(f"no stack named {stack!r}: {path.name} does not exist (stacks: {known})")
    values: dict[str, Any] = {}
    for key, declaration in (project.get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            values[key if ":" in key else f"{name}:{key}"] = declaration["default"]
    stack_values = stackfiles.read_stack(path, values)
    values.update(stack_values)
    return name, {key: _engine_text(value) for key, value in values.items()}


def _engine_text(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return "mock-secret-value"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def plan(root: Path, stack: str, stack_file: Path | None = None) -> Plan:
    """Run `stacks/__main__.py` for `stack` under mocks. Raises PlanError or config.ConfigError."""
    # Pulumi binds its futures to the thread's current event loop when a resource is constructed. After
    # an `asyncio.run()` elsewhere in the process (kopf, a test) there is none, so each plan brings its own.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        return _plan_on_current_loop(root, stack, stack_file)
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def _plan_on_current_loop(root: Path, stack: str, stack_file: Path | None) -> Plan:
    project, values = stack_config(root, stack, stack_file)
    recorder = mocking.RecordingMocks(region=values.get("aws:region", "us-east-1"))
    monitor = mocking.RecordingMonitor(recorder)
    settings.ROOT.set(None)  # a fresh root stack per plan: one process may plan many stacks
    pulumi.runtime.set_mocks(recorder, project=project, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(values)
    root_stack = settings.get_root_resource()
    collected: dict[str, Any] = {}
    secret: list[str] = []

    async def program() -> None:
        runpy.run_path(str(root / PROGRAM), run_name="__main__")
        exports: dict[str, Any] = getattr(root_stack, "outputs", {})
        for key, value in exports.items():
            output = pulumi.Output.from_input(value)
            collected[key] = mocking.normalize(await output.future())
            if await output.is_secret():
                secret.append(key)

    _sync_await(runtime_stack.run_pulumi_func(program))
    return Plan(
        project=project, stack=stack, resources=monitor.planned, outputs=collected, secret_outputs=secret
    )
