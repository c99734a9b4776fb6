"""`scaleplane import FILE`: an HPA or a KEDA ScaledObject as the equivalent ScalingPolicy YAML.

Thin: read the file, hand each document to scaleplane.migrating, print the policies (YAML, `---`
between them) with what could not be carried over as comments on top; the same notes go to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from scaleplane.cli.app import app, fail

HELP = """Convert an autoscaling/v2 HorizontalPodAutoscaler or a KEDA ScaledObject (prometheus, cpu and
memory triggers) into the equivalent ScalingPolicy, saying what could not be carried over.

A file may hold several documents (`---`); HPAs and ScaledObjects are converted, other kinds (Secrets,
TriggerAuthentications) are skipped with a note. Try the result before switching:
`scaleplane import hpa.yaml -o policy.yaml && scaleplane simulate --policy policy.yaml --trace T.csv`.
CPU and memory targets become `type: Resource` metrics, computed as the HPA does (docs/import.md)."""


def _documents(path: Path) -> list[dict[str, Any]]:
    try:
        loaded = list(yaml.safe_load_all(path.read_text()))
    except OSError as exc:
        raise fail(f"{path}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise fail(f"{path}: not a text file (not UTF-8); give the HPA or ScaledObject as YAML") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise fail(f"{path}: not valid YAML ({where}{getattr(exc, 'problem', None) or exc})") from None
    documents = [doc for doc in loaded if doc is not None]
    for index, doc in enumerate(documents):
        if not isinstance(doc, dict):
            raise fail(f"{path}: document {index + 1} is not a mapping, was {doc!r}")
    return documents


def _render(source: Path, conversion: Any) -> str:
    lines = [
        f"# Converted by `scaleplane import` from {source} ({conversion.source_kind} {conversion.name})."
    ]
    if conversion.notes:
        lines.append("# Not carried over, or carried approximately:")
        lines += [f"#   - {note}" for note in conversion.notes]
    return "\n".join(lines) + "\n" + yaml.safe_dump(conversion.manifest, sort_keys=False)


FileArgument = typer.Argument(
    ..., help="A YAML file with HorizontalPodAutoscalers or ScaledObjects.", dir_okay=False
)
OutputOption = typer.Option(None, "--output", "-o", help="Write the policies here instead of stdout.")


@app.command("import", help=HELP)
def import_(file: Path = FileArgument, output: Path | None = OutputOption) -> None:
    from scaleplane import migrating
    from scaleplane.migrating import conversions

    rendered: list[str] = []
    for index, document in enumerate(_documents(file)):
        try:
            conversion = migrating.convert(document)
        except conversions.ConversionError as exc:
            raise fail(f"{file}: document {index + 1} ({document.get('kind')}): {exc}") from None
        if conversion is None:
            typer.echo(
                f"note: {file}: document {index + 1} ({document.get('kind')}) "
                "is not an HPA or ScaledObject: skipped",
                err=True,
            )
            continue
        for note in conversion.notes:
            typer.echo(f"note: {conversion.source_kind} {conversion.name}: {note}", err=True)
        rendered.append(_render(file, conversion))
    if not rendered:
        raise fail(
            f"{file}: no autoscaling/v2 HorizontalPodAutoscaler or keda.sh/v1alpha1 ScaledObject in it"
        )
    text = "---\n".join(rendered)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text)
    except OSError as exc:
        raise fail(f"--output: cannot write {output} ({exc.strerror})") from None
    typer.echo(f"wrote {len(rendered)} ScalingPolicy(ies) to {output}", err=True)
