"""The demo report's section against the HPA's defaults, replayed on the load the demo recorded."""

from __future__ import annotations

from pathlib import Path

from scaleplane.control import policies
from scaleplane.local import platform as local_platform
from scaleplane.local import policyfiles
from scaleplane.local.demo import demoreport, profiles, recording
from scaleplane.scaling import decisions


def test_the_demo_report_replays_each_policy_and_the_hpa_on_the_recorded_load(tmp_path: Path) -> None:
    running = local_platform.Platform(local_platform.PlatformConfig(state_dir=tmp_path / "state"))
    loaded = {p.name: p.spec for p in policyfiles.load(policyfiles.BUILTIN_DIR)}
    for name in ("read-replicas", "workers"):
        key = policies.PolicyKey("local", name)
        running.managed.append(policies.ManagedPolicy(key, loaded[name], decisions.ScalingState(), None))  # type: ignore[arg-type]
    recorded = recording.Recording(started_at=1000.0, ended_at=1180.0)
    for t in range(181):  # reads: 40/s, then 140/s for a minute (3 replicas at 50 each), then 40/s
        reads = 140.0 if 60 <= t < 120 else 40.0
        replicas = 3 if 70 <= t < 150 else 1
        samples = {
            "read-replicas": recording.PolicySample(
                replicas, replicas, replicas, {"reads": reads if t else None}
            ),
            "workers": recording.PolicySample(1, 1, 1, {"backlog": 0.0}),
        }
        recorded.rows.append(recording.Row(float(t), "p", 10, 10, 0, 0, 5.0, 0.0, samples))
    running.state_dir.mkdir(parents=True)
    path = demoreport.write(tmp_path / "report", running, profiles.get("short"), recorded, {}, title="t")
    text = path.read_text()
    section = text.split("## Against the HPA's defaults", 1)[1].split("## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| read-replicas |"))
    ran, ours, hpa = (cell.strip() for cell in row.strip("|").split("|")[1:])
    assert float(ran) == round((60 + 80 * 3 + 41) / 3600, 4)  # 1 replica, 3 for 80 s, then 1
    ours_hours, ours_slo = (float(x) for x in ours.split(" / "))
    hpa_hours, hpa_slo = (float(x) for x in hpa.split(" / "))
    assert hpa_hours > ours_hours  # the HPA's 300 s scale-down window outlasts the run's burst
    assert ours_slo >= 0 and hpa_slo >= 0
    assert "| workers |" in section and "reads a backlog, not a demand rate: not replayable" in section
