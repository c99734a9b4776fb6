"""Write the synthetic traces under traces/: deterministic (seeded), small, `t,demand` in requests/s.

    uv run python bench/make_traces.py

Each trace is a rate curve with Poisson arrivals drawn per step (a step's count / its length), so the
noise is what a real request stream of that rate would show. Re-running writes identical files.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

TRACES = Path(__file__).resolve().parents[1] / "traces"
SEED = 20231116


def diurnal(t: float) -> float:
    """A day: 2 req/s at night, 14 at the afternoon peak, a smaller morning bump."""
    day = 2 * math.pi * t / 86400
    return 2 + 6 * (1 - math.cos(day)) + 2 * max(0.0, math.sin(2 * day)) ** 3


def flash_crowd(t: float) -> float:
    """4 req/s, then at minute 40 a crowd arrives within a minute (to 18) and drains over ~10 minutes."""
    onset = 40 * 60
    if t < onset:
        return 4.0
    rise = min(1.0, (t - onset) / 60)
    return 4.0 + 14.0 * rise * math.exp(-max(0.0, t - onset - 60) / 600)


def ramp(t: float) -> float:
    """1 req/s up to 20 over an hour, 20 minutes flat, down to 1 over 20 minutes, 20 minutes flat."""
    minutes = t / 60
    if minutes < 60:
        return 1 + 19 * minutes / 60
    if minutes < 80:
        return 20.0
    if minutes < 100:
        return 20 - 19 * (minutes - 80) / 20
    return 1.0


def make_noisy(rng: np.random.Generator, steps: int, step: float) -> Callable[[float], float]:
    """6 req/s with heavy-tailed bursts: a lognormal level that changes every minute."""
    levels = 6.0 * rng.lognormal(mean=-0.06, sigma=0.35, size=int(steps * step // 60) + 1)
    return lambda t: float(levels[int(t // 60)])


def make_sparse(rng: np.random.Generator, hours: float) -> Callable[[float], float]:
    """Idle most of the time (a function's load): about 8 bursts of 30 s to 3 min at 1 to 6 req/s."""
    bursts = []
    t = float(rng.exponential(600))
    while t < hours * 3600:
        length = float(rng.uniform(30, 180))
        bursts.append((t, t + length, float(rng.uniform(1, 6))))
        t += length + float(rng.exponential(900))
    return lambda now: next((rate for begin, end, rate in bursts if begin <= now < end), 0.0)


def write(
    name: str, rate: Callable[[float], float], hours: float, step: float, rng: np.random.Generator
) -> None:
    steps = int(hours * 3600 / step)
    lines = ["t,demand"]
    for i in range(steps):
        t = i * step
        count = rng.poisson(rate(t) * step)
        lines.append(f"{t:g},{count / step:.4f}")
    (TRACES / f"{name}.csv").write_text("\n".join(lines) + "\n")
    print(f"traces/{name}.csv: {steps} steps of {step:g} s")


def main() -> None:
    rng = np.random.default_rng(SEED)
    write("synthetic-diurnal", diurnal, hours=24, step=60, rng=rng)
    write("synthetic-flash-crowd", flash_crowd, hours=2, step=15, rng=rng)
    write("synthetic-ramp", ramp, hours=2, step=15, rng=rng)
    write("synthetic-noisy", make_noisy(rng, 240, 15), hours=1, step=15, rng=rng)
    write("synthetic-sparse", make_sparse(rng, 2), hours=2, step=15, rng=rng)


if __name__ == "__main__":
    main()
