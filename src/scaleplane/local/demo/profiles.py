"""The demo's load profiles: named shapes of load, each a few phases (see `loadgen.Phase`).

Rates are sized for a 2-core machine that also runs Prometheus, PostgreSQL, Redis, the API and the
workers: the flash crowd is about ten times the base read rate, and the job burst is a few minutes of
work for one worker (`jobs x job_seconds`), so the queue policy has a reason to add workers and, once
the backlog is gone, to remove them again. Function calls (`calls_per_s`, through the gateway to
`demo/thumbnail`, 0.5 s each, so about `calls_per_s / 4` instances at 2 calls per instance) come in one
phase and stop, so the function goes 0 -> N -> 0 within the run; not during the flash crowd, where
starting its instances would take CPU from the API on two cores.
"""

from __future__ import annotations

from scaleplane.local.demo import loadgen

PROFILES: dict[str, loadgen.Profile] = {
    "flash-crowd": loadgen.Profile(
        name="flash-crowd",
        description=(
            "calm, then a flash crowd on the API with a burst of jobs, then a burst of function calls, "
            "then calm again"
        ),
        phases=(
            loadgen.Phase("calm", 20, api_rps=15),
            loadgen.Phase("flash crowd", 50, api_rps=160, jobs=400),
            loadgen.Phase("function calls", 30, api_rps=15, calls_per_s=12),
            loadgen.Phase("after", 40, api_rps=15),
        ),
    ),
    "jobs": loadgen.Profile(
        name="jobs",
        description="a burst of jobs with a light read load: only the worker pool has to move",
        phases=(
            loadgen.Phase("calm", 15, api_rps=10),
            loadgen.Phase("burst", 30, api_rps=10, jobs=400),
            loadgen.Phase("after", 105, api_rps=10),
        ),
    ),
    "short": loadgen.Profile(
        name="short",
        description="the flash crowd squeezed for tests: a minute and a half, function calls first",
        phases=(
            loadgen.Phase("calm", 10, api_rps=10, calls_per_s=12),
            loadgen.Phase("flash crowd", 35, api_rps=150, jobs=240),
            loadgen.Phase("after", 45, api_rps=10),
        ),
        job_seconds=0.25,
    ),
}
DEFAULT = "flash-crowd"


def get(name: str) -> loadgen.Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"profile must be one of {', '.join(sorted(PROFILES))}, was {name!r}") from None
