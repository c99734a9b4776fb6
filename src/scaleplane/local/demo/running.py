"""`scaleplane demo`: up -> a load profile under the live view -> report -> down, in about 3 minutes.

Ctrl-C (or SIGTERM) at any point stops the load, stops every process of the platform (pools drain
first), and still writes the report of what ran. Whatever happens, `Platform.stop` runs; a SIGKILL of
this process is the watchdog's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from rich.console import Console
from rich.live import Live

from scaleplane.local import platform as local_platform
from scaleplane.local import serving
from scaleplane.local.demo import demoreport, liveview, loadgen, recording
from scaleplane.local.pools import targetkinds


class Interrupted(Exception):
    """The demo was stopped by a signal; everything was stopped and the report of what ran written."""

    def __init__(self, report: Path) -> None:
        super().__init__(f"interrupted; every process of the platform was stopped; report: {report}")
        self.report = report


def run(
    config: local_platform.PlatformConfig,
    profile: loadgen.Profile,
    *,
    report_dir: Path,
    live: bool | None = None,
    console: Console | None = None,
) -> Path:
    """Run the demo; return the report's Markdown file (raise Interrupted, after cleaning up, on a signal).

    `live` None: the live view on a terminal, one line per tick elsewhere (`live_view_wanted`).
    """
    console = console or Console()
    return asyncio.run(_run(config, profile, report_dir, live_view_wanted(live, console), console))


def live_view_wanted(live: bool | None, console: Console) -> bool:
    """The live view unless told otherwise, but only on a terminal by default: in a pipe or a CI log
    rich's Live prints nothing until it stops, then its last frame, where a line per tick tells the run."""
    return console.is_terminal if live is None else live


async def _run(
    config: local_platform.PlatformConfig,
    profile: loadgen.Profile,
    report_dir: Path,
    live: bool,
    console: Console,
) -> Path:
    interrupted = asyncio.Event()
    serving.install_stop(interrupted)
    running = local_platform.Platform(config)
    started = time.monotonic()
    try:
        with console.status("starting the local platform") as status:
            running.progress.on_step = lambda step: status.update(step)
            await running.start()
        console.print(
            f"platform up in {time.monotonic() - started:.0f} s: app {running.app_url}, "
            f"Prometheus {running.servers.prometheus.url if running.servers else '?'}",
            soft_wrap=True,  # a URL cut in two cannot be clicked or copied
        )
        for note in running.progress.notes:
            console.print(f"  {note}")
        recorded, series = await _drive(running, profile, live, console, interrupted)
    finally:
        with console.status("stopping: pools drain, then the servers stop"):
            await running.stop()
        serving.remove_stop()
    console.print("stopped; no process of the platform is left")
    title = f"scaleplane demo · {profile.name}" + (" (interrupted)" if interrupted.is_set() else "")
    report = demoreport.write(report_dir, running, profile, recorded, series, title=title)
    if interrupted.is_set():
        raise Interrupted(report)
    return report


async def _drive(
    running: local_platform.Platform,
    profile: loadgen.Profile,
    live: bool,
    console: Console,
    interrupted: asyncio.Event,
) -> tuple[recording.Recording, demoreport.Series]:
    generator = loadgen.LoadGenerator(running.app_url, profile, gateway_url=_gateway_for(running, profile))
    recorder = recording.Recorder(running, generator, targetkinds.QUEUE_DEPTH_QUERY)
    loop_stop = asyncio.Event()
    control = asyncio.create_task(running.run(loop_stop))
    recorder.begin()
    load = asyncio.create_task(generator.run())
    stopper = asyncio.create_task(interrupted.wait())
    view = Live(console=console, refresh_per_second=4, transient=False) if live else None
    try:
        with view if view is not None else contextlib.nullcontext():
            printed = 0
            while not load.done() and not interrupted.is_set():
                row = await recorder.sample()
                snapshot = build_snapshot(running, generator, recorder, profile, row)
                if view is not None:
                    view.update(liveview.render(snapshot))
                elif running.ticks > printed:
                    printed = running.ticks
                    console.print(_line(snapshot), soft_wrap=True)  # one line per tick in a log
                await asyncio.wait([load, stopper], timeout=1.0)
    finally:
        if not load.done():
            load.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await load
        stopper.cancel()
        recorded = recorder.end()
        loop_stop.set()
        await control
    series = await asyncio.to_thread(demoreport.fetch_series, running, recorded)
    return recorded, series


def build_snapshot(
    running: local_platform.Platform,
    generator: loadgen.LoadGenerator,
    recorder: recording.Recorder,
    profile: loadgen.Profile,
    row: recording.Row,
) -> liveview.Snapshot:
    policies = []
    for managed in running.managed:
        name = managed.key.name
        sample = row.policies.get(name)
        outcome = running.last.get(name)
        cells = tuple(
            liveview.MetricCell(
                metric.name,
                sample.metrics.get(metric.name) if sample else None,
                metric.level.value,
                metric.level.type,
                error=_sample_error(outcome, metric.name),
            )
            for metric in managed.spec.metrics
        )
        policies.append(
            liveview.PolicyRow(
                policy=name,
                target=f"{managed.spec.target_ref.kind}/{managed.spec.target_ref.name}",
                current=(sample.current or 0) if sample else 0,
                ready=(sample.ready or 0) if sample else 0,
                desired=sample.desired if sample else None,
                bounds=(managed.spec.min_replicas, managed.spec.max_replicas),
                metrics=cells,
                history=tuple(recorder.recording.history.get(name, ())),
                error=outcome.error if outcome else None,
            )
        )
    start = recorder.recording.started_at
    decisions = [
        liveview.DecisionRow(
            at=f"+{float(d.get('at', start)) - start:.0f}s",
            policy=str(d.get("policy")),
            change=f"{d.get('current')} -> {d.get('desired')}" if d.get("desired") is not None else "error",
            reason=str(d.get("reason") or ""),
            message=str(d.get("error") or d.get("message") or ""),
        )
        for d in running.recent
        if float(d.get("at", 0)) >= start - 1
    ]
    totals = generator.stats.totals()
    load = liveview.LoadRow(
        phase=row.phase,
        target_rps=row.target_rps,
        ok_per_s=row.ok,
        failed_per_s=row.failed,
        shed_per_s=row.shed,
        p95_ms=row.p95_ms,
        in_flight=generator.in_flight,
        jobs_enqueued=totals["jobs"],
        queue_depth=row.queue_depth,
        failed_total=totals["failed"],
        calls_ok_per_s=row.calls_ok,
        calls_failed_total=totals["calls_failed"],
        cold_starts_total=totals["cold_starts"],
    )
    return liveview.Snapshot(
        title=f"scaleplane demo · {profile.name} · tick {running.config.tick_seconds:g}s",
        elapsed=row.t,
        duration=profile.seconds,
        load=load,
        policies=policies,
        decisions=decisions,
        notes=(f"app {running.app_url}   Ctrl-C stops everything cleanly",),
    )


def _gateway_for(running: local_platform.Platform, profile: loadgen.Profile) -> str | None:
    """The gateway's URL when the profile's function is one the platform runs (other policies: no calls)."""
    pool = f"FunctionPool/{profile.function.replace('/', '.')}"
    if running.functions is None or pool not in running.targets:
        return None
    return running.functions.gateway_url


def _sample_error(outcome: object, metric: str) -> str | None:
    observation = getattr(outcome, "observation", None)
    if observation is None:
        return None
    sample = observation.sample(metric)
    return sample.error if sample is not None else None


def _line(snapshot: liveview.Snapshot) -> str:
    parts = [f"+{snapshot.elapsed:4.0f}s"]
    if snapshot.load is not None:
        parts.append(
            f"{snapshot.load.phase}: {snapshot.load.ok_per_s} ok/s queue {snapshot.load.queue_depth} "
            f"calls {snapshot.load.calls_ok_per_s}/s"
        )
    parts += [f"{p.policy} {p.ready}/{p.current}->{p.desired}" for p in snapshot.policies]
    return "  ".join(parts)
