"""The demo's pure and in-process parts: policy files, state files, load generator, live view, report math."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiohttp import web
from rich.console import Console

from scaleplane.local import checks, policyfiles, runfiles, statefiles
from scaleplane.local.demo import liveview, loadgen, profiles
from scaleplane.local.servers import binaries, processes
from scaleplane.scaling import decisions

POLICY = """
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {name: workers}
spec:
  targetRef: {kind: WorkerPool, name: workers}
  maxReplicas: 4
  metrics: [{name: backlog, query: 'sum(x)', target: {type: AverageValue, value: 10}}]
"""


def test_builtin_policies_load_and_name_local_kinds() -> None:
    loaded = policyfiles.load(policyfiles.BUILTIN_DIR)
    assert [(p.name, p.spec.target_ref.kind) for p in loaded] == [
        ("read-replicas", "ReadReplicaPool"),
        ("workers", "WorkerPool"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            POLICY.replace("maxReplicas: 4", "maxReplicas: 0"),
            "bad.yaml:7: spec.maxReplicas: must be >= 1, was 0",
        ),
        (
            POLICY.replace("kind: ScalingPolicy", "kind: Policy"),
            "bad.yaml:3: kind: must be ScalingPolicy, was 'Policy'",
        ),
        (POLICY.replace("metadata: {name: workers}", "metadata: {}"), "metadata.name: is required, was None"),
        (POLICY + "---\n" + POLICY, "metadata.name must be unique, repeated: workers"),
        ("a: [", "bad.yaml:1: not valid YAML"),
    ],
)
def test_bad_policy_files_name_the_file_field_and_value(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(policyfiles.PolicyFileError) as caught:
        policyfiles.load(tmp_path)
    assert message in str(caught.value)


def test_state_round_trips_and_a_torn_log_line_is_skipped(tmp_path: Path) -> None:
    state = decisions.ScalingState(recommendations=((10.0, 3),), scale_events=((9.0, 1, 3),))
    statefiles.save_state(tmp_path / "state.json", {"workers": statefiles.Remembered(state, 3, 12.0)})
    again = statefiles.load_state(tmp_path / "state.json")
    assert again["workers"].state == state and again["workers"].replicas == 3
    assert statefiles.load_state(tmp_path / "missing.json") == {}
    log = tmp_path / "decisions.jsonl"
    statefiles.append_decision(log, {"policy": "workers", "desired": 3})
    with log.open("a") as out:
        out.write('{"policy": "wor')  # a crash in the middle of a write
    assert statefiles.read_decisions(log) == [{"policy": "workers", "desired": 3}]


def test_leftovers_are_ended_by_process_group_and_stale_records_dropped(tmp_path: Path) -> None:
    child = processes.SupervisedProcess("sleeper", ["sleep", "60"], run_dir=tmp_path / "servers").start()
    stale = tmp_path / "servers" / "gone.pid"
    stale.write_text(
        json.dumps({"name": "gone", "pid": 999999, "pgid": 999999, "start_ticks": 1, "argv": []})
    )
    (tmp_path / "servers" / "postmaster.pid").write_text("PostgreSQL's own lock file, not ours\n")
    assert [r.name for r in runfiles.live_records(tmp_path)] == ["sleeper"]
    ended = runfiles.end_leftovers(tmp_path)
    assert [r.name for r in ended] == ["sleeper"]
    assert child.exit_code() is not None
    assert not stale.exists() and (tmp_path / "servers" / "postmaster.pid").exists()


def test_doctor_names_the_install_command_of_what_is_missing(tmp_path: Path) -> None:
    absent = binaries.Binary("prometheus", tmp_path / "prometheus", "prometheus")
    found = checks.check_binaries((absent, binaries.REDIS), postgres_root=tmp_path)
    by_name = {c.name: c for c in found}
    assert not by_name["prometheus"].ok
    assert "apt-get install -y prometheus" in by_name["prometheus"].fix
    assert not by_name["postgresql"].ok and "apt-get install -y postgresql" in by_name["postgresql"].fix
    assert by_name["redis-server"].ok == binaries.REDIS.path.exists()
    unwritable = tmp_path / "file"
    unwritable.write_text("not a directory")
    assert not checks.check_state_dir(unwritable / "state")[0].ok
    # The exporters are optional: absent, the check passes and still names the install.
    exporter = binaries.Binary("prometheus-redis-exporter", tmp_path / "x", "prometheus-redis-exporter")
    [optional] = checks.check_exporters((exporter,))
    assert optional.ok and "optional" in optional.detail
    assert "apt-get install -y prometheus-redis-exporter" in optional.fix
    # So are the HA servers; Alertmanager is not (the platform's alerts go through it).
    patroni = binaries.Binary("patroni", tmp_path / "patroni", "patroni")
    [ha] = checks.check_high_availability((patroni,))
    assert ha.ok and "--ha-database" in ha.detail and "apt-get install -y patroni" in ha.fix
    assert binaries.ALERTMANAGER in checks.SERVER_BINARIES


def test_profiles_scale_and_reject_bad_values() -> None:
    short = profiles.get("flash-crowd").scaled(60)
    assert round(short.seconds) == 60
    with pytest.raises(ValueError, match=r"profile must be one of .* was 'nope'"):
        profiles.get("nope")
    with pytest.raises(ValueError, match=r"api_rps must be 0\.\.1000, was 5000"):
        loadgen.Phase("x", 10, api_rps=5000)
    with pytest.raises(ValueError, match=r"only targets 127\.0\.0\.1"):
        loadgen.LoadGenerator("http://example.com", short)


async def test_load_generator_is_open_loop_bounded_and_counts_failures() -> None:
    hits = {"items": 0, "jobs": 0}

    async def item(request: web.Request) -> web.Response:
        hits["items"] += 1
        if int(request.match_info["id"]) % 10 == 0:
            return web.Response(status=500)
        await asyncio.sleep(0.3)  # slower than the rate: in-flight requests pile up to the bound
        return web.Response(text="{}")

    async def jobs(request: web.Request) -> web.Response:
        hits["jobs"] += int(request.query["count"])
        return web.Response(status=202)

    app = web.Application()
    app.add_routes([web.get("/items/{id}", item), web.post("/jobs", jobs)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    profile = loadgen.Profile("t", "t", (loadgen.Phase("burst", 1.5, api_rps=100, jobs=1200),), id_space=1000)
    generator = loadgen.LoadGenerator(f"http://127.0.0.1:{port}", profile, max_in_flight=10, max_requests=120)
    try:
        stats = await generator.run()
    finally:
        await runner.cleanup()
    totals = stats.totals()
    assert totals["sent"] <= 120 and totals["sent"] == hits["items"]
    assert totals["shed"] > 0  # 100/s against 10 in flight x 0.3 s: most of the burst is shed, not queued
    assert totals["failed"] > 0 and totals["ok"] + totals["failed"] == totals["sent"]
    assert hits["jobs"] == totals["jobs"] == 1200  # in chunks of loadgen.JOB_CHUNK


async def test_load_generator_calls_the_function_through_the_gateway_and_counts_every_call() -> None:
    seen: list[dict[str, object]] = []

    async def function(request: web.Request) -> web.Response:
        seen.append(await request.json())
        if len(seen) % 7 == 0:
            return web.json_response({"error": {"code": "TimedOut"}}, status=504)
        cold = {loadgen.COLD_START_HEADER: "0.800"} if len(seen) <= 3 else {}
        return web.json_response({"result": {}}, headers=cold)

    app = web.Application()
    app.add_routes([web.post("/v1/functions/demo/thumbnail", function), web.get("/items/{id}", function)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    phases = (loadgen.Phase("calls", 1.0, api_rps=0, calls_per_s=30), loadgen.Phase("quiet", 0.5, api_rps=0))
    profile = loadgen.Profile("t", "t", phases, call_seconds=0.25)
    try:
        without = await loadgen.LoadGenerator(url, profile).run()  # no gateway: no call is sent
        assert without.totals()["calls"] == 0 and not seen
        stats = await loadgen.LoadGenerator(url, profile, gateway_url=url).run()
    finally:
        await runner.cleanup()
    totals = stats.totals()
    assert totals["calls"] == len(seen) >= 25
    assert totals["calls_ok"] + totals["calls_failed"] == totals["calls"]  # every call accounted for
    assert totals["calls_failed"] == len(seen) // 7 and stats.errors == {"call HTTP 504": len(seen) // 7}
    assert totals["cold_starts"] == 3
    assert all(p["work_seconds"] == 0.25 and int(str(p["width"])) > 0 for p in seen)


def test_live_view_renders_load_targets_and_decisions() -> None:
    snapshot = liveview.Snapshot(
        title="scaleplane demo",
        elapsed=42,
        duration=150,
        load=liveview.LoadRow("flash crowd", 160, 158, 2, 0, 12.5, 5, 400, 231, 2, 11, 1, 4),
        policies=[
            liveview.PolicyRow(
                "workers",
                "WorkerPool/workers",
                4,
                2,
                6,
                (1, 6),
                (liveview.MetricCell("backlog", 231, 10, "AverageValue"),),
                (1, 1, 2, 4),
            ),
            liveview.PolicyRow("read-replicas", "ReadReplicaPool/r", 1, 1, None, (1, 3), error="cannot read"),
        ],
        decisions=[liveview.DecisionRow("+40s", "workers", "1 -> 4", "rate_limited", "backlog 231")],
    )
    console = Console(width=160, record=True)
    console.print(liveview.render(snapshot))
    text = console.export_text()
    for expected in (
        "flash crowd",
        "2/4",
        "backlog: 231.0 / 10 per replica",
        "1 -> 4",
        "cannot read",
        "1..6",
        "11 (1 failed)",  # function calls answered per second, and those that failed in all
    ):
        assert expected in text
    assert liveview.sparkline([0, 4, 8]) == " ▄█"


def test_the_live_view_is_the_default_on_a_terminal_only() -> None:
    from io import StringIO

    from scaleplane.local.demo import running

    pipe, terminal = Console(file=StringIO()), Console(file=StringIO(), force_terminal=True)
    assert running.live_view_wanted(None, pipe) is False  # a log gets a line per tick
    assert running.live_view_wanted(None, terminal) is True
    assert running.live_view_wanted(True, pipe) is True and running.live_view_wanted(False, terminal) is False


def test_report_tells_what_happened_costs_and_checks_the_log_against_prometheus(tmp_path: Path) -> None:
    from scaleplane.control import policies
    from scaleplane.local import platform as local_platform
    from scaleplane.local.demo import demoreport, recording

    running = local_platform.Platform(local_platform.PlatformConfig(state_dir=tmp_path / "state"))
    spec = policyfiles.load(policyfiles.BUILTIN_DIR)[1].spec  # workers, 1..6
    running.managed.append(
        policies.ManagedPolicy(policies.PolicyKey("local", "workers"), spec, decisions.ScalingState(), None)
    )  # type: ignore[arg-type]
    start = 1000.0
    recorded = recording.Recording(started_at=start, ended_at=start + 60)
    for t in range(61):  # 1 worker, then 3 from +20 s to +40 s: 20 s x 3 + 40 s x 1 = 100 replica-seconds
        count = 3 if 20 <= t < 40 else 1
        sample = recording.PolicySample(count, count, count, {"backlog": 0.0})
        recorded.rows.append(recording.Row(float(t), "p", 10, 10, 0, 0, 5.0, 0.0, {"workers": sample}))
    running.state_dir.mkdir(parents=True)
    for at, before, after in ((start + 20, 1, 3), (start + 40, 3, 1)):
        statefiles.append_decision(
            running.decisions_path,
            {
                "policy": "workers",
                "at": at,
                "current": before,
                "desired": after,
                "scaled": True,
                "reason": "x",
            },
        )
    # Prometheus saw the first change but not the second: the report must say 1 of 2, and which one.
    series = {"desired:workers": [(start + t, 3.0 if t >= 21 else 1.0) for t in range(0, 61, 2)]}
    profile = profiles.get("short")
    path = demoreport.write(tmp_path / "report", running, profile, recorded, series, title="t")
    text = path.read_text()
    assert "- **workers** (WorkerPool): 1 -> 3 -> 1 replicas, first change at +20 s, last at +40 s" in text
    assert "1 of 2 scale events" in text and "mismatch: workers 3->1 at 1040" in text
    hours = demoreport.replica_hours(recorded, running)[0]
    assert round(hours.asked * 3600) == 100 and hours.peak == 3 and round(hours.static_peak * 3600) == 180
    assert "| workers | 0.0278 | 0.0278 | 3 | 0.0500 | 0.1000 | 44% |" in text
    for image in ("load.png", "replicas.png", "queue-and-reads.png", "replica-hours.png"):
        assert (tmp_path / "report" / image).stat().st_size > 10_000


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (
            "Deployment",
            "spec.targetRef.kind must be one of WorkerPool, ReadReplicaPool, FunctionPool in local mode, "
            "was 'Deployment'",
        ),
        ("FunctionPool", "no `kind: Function` document declares it"),
    ],
)
def test_the_platform_refuses_targets_it_cannot_build_before_starting(
    tmp_path: Path, kind: str, message: str
) -> None:
    from scaleplane.local import platform as local_platform

    (tmp_path / "p.yaml").write_text(POLICY.replace("kind: WorkerPool", f"kind: {kind}"))
    with pytest.raises(policyfiles.PolicyFileError) as caught:
        local_platform.load_policies(tmp_path / "p.yaml")
    assert str(caught.value).startswith("p.yaml: ") and message in str(caught.value)


async def test_a_second_platform_on_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    from scaleplane.local import platform as local_platform

    config = local_platform.PlatformConfig(state_dir=tmp_path / "state")
    first = local_platform.Platform(config)
    first._claim()  # what start() does first; enough to hold the state directory
    try:
        with pytest.raises(
            local_platform.AlreadyRunning, match=r"already runs from .* \(controller pid \d+\)"
        ):
            async with local_platform.Platform(config):
                pass
        assert runfiles.supervisor(first.state_dir) is not None  # the refused one took nothing away
    finally:
        await first.stop()
    assert runfiles.supervisor(first.state_dir) is None
