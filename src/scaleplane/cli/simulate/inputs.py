"""The inputs of `scaleplane simulate` checked into the engine's values: target model, SLO, trace, policy.

Each check names the option and the bad value (`error: --tick: must be 1..3600 seconds, was 0`, exit
2) before anything runs; the defaults that follow --tick are filled in here, so an option the user
never set is never the one blamed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from scaleplane.cli.app import fail, read_text

if TYPE_CHECKING:
    from scaleplane.scaling import specs
    from scaleplane.scaling.simulating import simulation


def target_model(
    capacity: float, startup: float, queueing: bool, tick: float, window: float | None
) -> simulation.TargetModel:
    from scaleplane.scaling.simulating import simulation

    if window is None:  # the default follows a long tick, so an unset option is never the one blamed
        window = max(60.0, tick)
    checks = [
        # Below a millionth, demand / capacity overflows the replica counts of the oracle.
        (
            "--capacity",
            capacity,
            math.isfinite(capacity) and capacity >= 1e-6,
            "must be a finite number >= 1e-06",
        ),
        ("--startup", startup, 0 <= startup <= 86400, "must be 0..86400 seconds"),
        ("--tick", tick, 1 <= tick <= 3600, "must be 1..3600 seconds"),
        ("--rate-window", window, math.isfinite(window) and window >= tick, "must be at least one tick"),
    ]
    for option, value, ok, message in checks:
        if not ok or value != value:  # NaN compares unequal to itself
            raise fail(f"{option}: {message}, was {value!r}")
    return simulation.TargetModel(
        capacity_per_replica=capacity, startup_seconds=startup, queueing=queueing, rate_window_seconds=window
    )


def objective(latency: float, quantile: float, window: float | None, service: float, tick: float) -> Any:
    from scaleplane.scaling.simulating import latencies

    if window is None:  # the default follows the tick, so a long --tick never blames an unset option
        window = max(60.0, tick)
    checks = [
        ("--slo-latency", latency, 0 < latency <= 3600, "must be in (0, 3600] seconds"),
        ("--slo-quantile", quantile, 0 < quantile < 1, "must be in (0, 1)"),
        (
            "--slo-window",
            window,
            tick <= window <= 86400,
            f"must be {tick:g}..86400 seconds (at least a tick)",
        ),
        ("--service-time", service, 0 <= service < latency, "must be >= 0 and below --slo-latency"),
    ]
    for option, value, ok, message in checks:
        if not ok or value != value:
            raise fail(f"{option}: {message}, was {value!r}")
    return latencies.LatencyObjective(
        latency_seconds=latency, quantile=quantile, window_seconds=window, service_seconds=service
    )


def signals(pairs: list[str]) -> dict[str, str]:
    from scaleplane.scaling.simulating import simulation

    signals: dict[str, str] = {}
    for pair in pairs:
        metric, _, kind = pair.partition("=")
        if not metric or kind not in simulation.SIGNALS:
            raise fail(f"--signal: expected METRIC=demand|backlog, was {pair!r}")
        signals[metric] = kind
    return signals


def warn_about_wiring(
    spec: specs.ScalingPolicySpec, signals: dict[str, str], model: simulation.TargetModel
) -> None:
    """Say so (on stderr) when the policy will read something that makes its run meaningless."""
    from scaleplane.scaling.simulating import simulation

    unknown = sorted(set(signals) - {m.name for m in spec.metrics})
    if unknown:
        raise fail(f"--signal: the policy has no metric {', '.join(unknown)}")
    if not model.queueing:
        for metric in spec.metrics:
            if simulation.signal_for(metric, signals) == "backlog":
                typer.secho(
                    f"warning: metric {metric.name!r} reads the queue length, which stays 0 without "
                    "--queueing (or map it with --signal NAME=demand)",
                    err=True,
                    fg=typer.colors.YELLOW,
                )
    if spec.paused:
        typer.secho("warning: the policy is paused: it will never scale", err=True, fg=typer.colors.YELLOW)


def read_trace(path: Path, tick: float, weights: list[str]) -> Any:
    from scaleplane.scaling.simulating import traces

    try:
        with path.open(newline="") as lines:
            return traces.parse_trace(lines, source=str(path), bucket_seconds=tick, weight_columns=weights)
    except FileNotFoundError:
        raise fail(f"--trace: {path} does not exist") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise fail(f"--trace: cannot read {path}: {exc}") from None
    except traces.TraceError as exc:
        raise fail(str(exc)) from None


def read_policy(path: Path) -> specs.ScalingPolicySpec:
    """A ScalingPolicy manifest (apiVersion, kind, metadata, spec) or a bare spec, from YAML."""
    from scaleplane.scaling import manifests

    text = read_text(path, "--policy")
    try:
        found = manifests.parse(text, str(path), bare_spec=True)
    except manifests.ManifestError as exc:
        raise fail(str(exc)) from None
    if len(found) != 1:
        raise fail(f"--policy: {path} holds {len(found)} ScalingPolicies; simulate replays exactly one")
    return found[0].spec


def slo_budget(text: str | None, trace_minutes: float) -> float | None:
    """--slo-budget as SLO-violation minutes: `12` is 12 minutes, `0.1%` that share of the trace's minutes.

    A share is how an availability objective reads (99.9 % of minutes good: a 0.1 % budget), and it
    keeps its meaning on a trace of any length.
    """
    if text is None:
        return None
    raw = text.strip()
    share = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%"))
    except ValueError:
        raise fail(
            "--slo-budget: expected SLO-violation minutes (12) or a share of the trace's minutes (0.1%), "
            f"was {text!r}"
        ) from None
    if not math.isfinite(value) or value < 0 or (share and value > 100):
        limit = "a share of 0% to 100%" if share else "minutes >= 0"
        raise fail(f"--slo-budget: must be {limit}, was {text!r}")
    return value / 100 * trace_minutes if share else value
