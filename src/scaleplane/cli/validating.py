"""`scaleplane validate FILE...`: ScalingPolicy files checked offline, as the cluster and the engine would.

Two checks per policy, no trace and no cluster needed: the CRD's OpenAPI schema (what `kubectl
apply` would refuse, generated from the same models: scaleplane.operator.manifests.crds) and the engine's own
rules (scaleplane.scaling.manifests: strict types, cross-field rules, PromQL ranges the simulator
and the operator can read). CEL rules of the CRD are the engine's cross-field rules again, so they
are covered by the second check. `kind: Function` documents in the same files (local mode reads
them from the policy files) are checked by the loader the local platform uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from scaleplane.cli.app import app, fail, read_text


@app.command(
    "validate",
    help="Check ScalingPolicy files offline (the CRD schema, the engine rules); exit 1 if one is invalid.",
)
def validate(
    files: Annotated[
        list[Path], typer.Argument(help="ScalingPolicy YAML files, or folders of *.yaml / *.yml.")
    ],
) -> None:
    import jsonschema

    from scaleplane.inputs import durations
    from scaleplane.scaling import manifests

    schema = _crd_spec_schema()
    valid = invalid = 0
    for path in _expand(files):
        text = read_text(path, "validate")
        functions = _functions(path, text)
        if functions is not None:
            count, message = functions
            valid, invalid = (valid + count, invalid) if count else (valid, invalid + 1)
            typer.secho(message, fg=None if count else typer.colors.RED)
        try:
            found = manifests.parse(text, str(path), other_kinds=frozenset({"Function"}))
        except manifests.ManifestError as exc:
            invalid += 1
            typer.secho(f"invalid {exc}", fg=typer.colors.RED)
            continue
        for manifest in found:
            problems = [
                f"{path}:{manifest.line_of(('spec', *error.absolute_path))}: "
                f"spec{_where(error.absolute_path)}: {error.message} (the CRD's schema)"
                for error in jsonschema.Draft4Validator(schema).iter_errors(_spec_of(manifest))
            ]
            for metric in manifest.spec.metrics:
                try:
                    durations.first_range(metric.query or "")
                except durations.DurationError as exc:
                    problems.append(
                        f"{path}:{manifest.line_of(('spec', 'metrics'))}: metric {metric.name!r}: {exc}"
                    )
            if problems:
                invalid += 1
                for problem in problems:
                    typer.secho(f"invalid {problem}", fg=typer.colors.RED)
            else:
                valid += 1
                typer.echo(f"ok {path}: {manifest.name}")
    summary = f"{valid} valid, {invalid} invalid ScalingPolicy (or Function) document(s)"
    if invalid:
        typer.secho(f"FAILED {summary}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.secho(f"passed {summary}", fg=typer.colors.GREEN)


def _functions(path: Path, text: str) -> tuple[int, str] | None:
    """(valid Functions, 0 if invalid; the line to print) for a file's Functions; None if it has none."""
    import yaml

    from scaleplane.local import policyfiles
    from scaleplane.local.pools import functionhome

    try:
        kinds = [d.get("kind") for d in yaml.safe_load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError:
        return None  # manifests.parse reports it, with the line
    if "Function" not in kinds:
        return None
    try:
        found = functionhome.load(path)
    except policyfiles.PolicyFileError as exc:
        return 0, f"invalid {path}: {exc}"
    return len(found), f"ok {path}: Function " + ", ".join(str(d.key) for d in found)


def _expand(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not inside:
                raise fail(f"validate: no *.yaml or *.yml file in the folder {path}")
            found += inside
        else:
            found.append(path)
    return found


def _spec_of(manifest: Any) -> Any:
    """The spec as the API server would store it: camelCase, defaults filled in, JSON types."""
    return manifest.spec.model_dump(mode="json", by_alias=True, exclude_none=True)


def _where(path: Any) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def _crd_spec_schema() -> dict[str, Any]:
    from scaleplane.operator.manifests import crds

    crd = crds.scaling_policy_crd()
    version = crd["spec"]["versions"][0]
    converted: dict[str, Any] = _json_schema(version["schema"]["openAPIV3Schema"]["properties"]["spec"])
    return converted


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON schema's `type: [T, "null"]`; the rest is draft 4's."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in node:
        converted["type"] = [node["type"], "null"]
    return converted
