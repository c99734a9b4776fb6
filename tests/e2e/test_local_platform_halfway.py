"""A local platform whose start fails half way leaves nothing running, on real servers.

Two places it can fail: inside the first step, where Prometheus, Redis and PostgreSQL start at once
(Redis cannot, its directory is a file: the two others did start and must be stopped), and at the
function gateway, the last step but one, when every server, the app, the watchdog, the exporters and
a worker already run (`SCALEPLANE_HOOKS` is not JSON). Either way the error is a PlatformError, no
process of the platform is left, and the state directory is free for the next `up`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scaleplane.local import platform, runfiles
from scaleplane.local.pools import targetkinds

pytestmark = [pytest.mark.servers, pytest.mark.slow, pytest.mark.timeout(300)]

WORKERS = f"""
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {{name: workers}}
spec:
  targetRef: {{kind: WorkerPool, name: workers}}
  minReplicas: 1
  maxReplicas: 2
  metrics:
    - {{name: backlog, query: '{targetkinds.QUEUE_DEPTH_QUERY}', target: {{type: AverageValue, value: 10}}}}
"""


@pytest.mark.parametrize(
    ("where", "message", "running_by_then"),
    [
        ("servers", "a server did not start", set()),
        (
            "gateway",
            "SCALEPLANE_HOOKS",
            {"prometheus", "redis", "postgres-primary", "sample-app", "watchdog", "exporter", "workers-1"},
        ),
    ],
)
async def test_a_start_that_fails_half_way_stops_what_it_started(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, where: str, message: str, running_by_then: set[str]
) -> None:
    state = workdir / "state"
    (workdir / "workers.yaml").write_text(WORKERS)
    if where == "servers":
        servers = runfiles.servers_dir(state.resolve())
        servers.mkdir(parents=True)
        (servers / "redis").write_text("a file where Redis wants its directory")
    else:
        monkeypatch.setenv("SCALEPLANE_HOOKS", "not json")
    alive_at: dict[str, set[str]] = {}

    def on_step(step: str) -> None:
        alive_at[step] = {r.name for r in runfiles.live_records(state)}

    config = platform.PlatformConfig(state_dir=state, policies=workdir / "workers.yaml")
    with pytest.raises(platform.PlatformError, match=message):
        async with platform.Platform(config, on_step=on_step):
            pass
    last_step = list(alive_at)[-1]
    assert running_by_then <= alive_at[last_step], f"at {last_step!r}: {sorted(alive_at[last_step])}"
    assert runfiles.live_records(state) == []
    assert runfiles.supervisor(state) is None
