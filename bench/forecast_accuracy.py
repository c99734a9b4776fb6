"""Forecast accuracy: which model should pre-scale? Recorded in docs/benchmarks.md ("Forecast accuracy").

    uv run python bench/forecast_accuracy.py

Each series is a per-15 s request count, walked tick by tick exactly as the engine walks it: the history
is `state.history` over `historySeconds` (1800 s), the holt-winters profile is learnt by
`forecasting.learn_seasons`, and every forecast comes from `forecasting.forecast`. At each tick we
forecast one tick ahead (15 s) and at the pre-scaling horizon (start-up 60 s + one tick = 75 s), and
compare with what came. Besides the mean absolute error (MAE, as a ratio to the naive "last value"
forecast), the two columns that matter for autoscaling judge what the engine recommends for,
max(observed, forecast), against the value 75 s later:
    short   mean of max(0, actual - max(observed, forecast)): load that would arrive unprovisioned
    excess  mean of max(0, max(observed, forecast) - actual): capacity bought for nothing

Series: the real Azure LLM conversation trace (58 min) bucketed into 15 s counts; a synthetic diurnal
series (3 days, Poisson counts around a daily curve with an 18:00 peak and a sharp 09:00 surge, seeded)
for the seasonal model, which learns its profile over the first day.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import recording
from scaleplane.scaling import decisions, specs
from scaleplane.scaling.deciding import forecasting
from scaleplane.scaling.simulating import traces

TICK = 15.0
HORIZON = 60.0 + TICK
HISTORY = 1800
REAL = Path(__file__).resolve().parents[1] / "traces" / "azure-llm-conv-2023.csv"
DAY = 86400


def real_series() -> tuple[list[float], float]:
    trace = traces.parse_trace(REAL.read_text().splitlines(), source=REAL.name, bucket_seconds=TICK)
    return [rate * TICK for rate in traces.resample(trace, TICK)], trace.start


def diurnal_series(days: int = 3, seed: int = 7) -> tuple[list[float], float]:
    t = np.arange(0, days * DAY, TICK)
    hour = (t % DAY) / 3600
    level = 20 + 60 * np.exp(-(((hour - 18) / 3.5) ** 2))  # a broad evening peak
    level += 50 * ((hour >= 9) & (hour < 10))  # a sharp morning surge, same time every day
    counts = np.random.default_rng(seed).poisson(level)
    return [float(c) for c in counts], 1_700_006_400.0  # a midnight (UTC), so phases are clock times


def walk(
    values: Sequence[float],
    start: float,
    model: str,
    season: int | None,
    alpha: float = forecasting.ALPHA,
    beta: float = forecasting.BETA,
) -> dict[str, float]:
    settings: dict[str, object] = {"model": model, "historySeconds": HISTORY, "startupSeconds": 60}
    if season:
        settings["seasonSeconds"] = season
    spec = specs.parse_policy(
        {
            "targetRef": {"name": "bench"},
            "maxReplicas": 10,
            "metrics": [{"name": "m", "query": "m", "target": {"value": 1}}],
            "forecast": settings,
        }
    )
    ahead = round(HORIZON / TICK)
    state = decisions.ScalingState()
    errors_1: list[float] = []
    errors_h: list[float] = []
    short: list[float] = []
    excess: list[float] = []
    for i, y in enumerate(values):
        now = start + i * TICK
        times, series = forecasting.series(state, "m", now, y)
        profile = forecasting.profile_of(state, "m", season) if season else None
        one = forecasting.forecast(model, times, series, TICK, season, profile, alpha, beta)
        far = forecasting.forecast(model, times, series, HORIZON, season, profile, alpha, beta)
        if i + 1 < len(values):
            errors_1.append(abs((y if one is None else one) - values[i + 1]))
        if i + ahead < len(values):
            actual = values[i + ahead]
            guess = y if far is None else far
            errors_h.append(abs(guess - actual))
            planned = max(y, guess)
            short.append(max(0.0, actual - planned))
            excess.append(max(0.0, planned - actual))
        cutoff = now - HISTORY
        history = (*(h for h in state.history if h[0] > cutoff), (now, "m", y))
        extra = forecasting.learn_seasons(spec, state, history, now)
        state = decisions.ScalingState(history=history, extra=extra)
    return {
        "mae1": float(np.mean(errors_1)),
        "maeh": float(np.mean(errors_h)),
        "short": float(np.mean(short)),
        "excess": float(np.mean(excess)),
    }


def main() -> None:
    real, real_start = real_series()
    diurnal, diurnal_start = diurnal_series()
    candidates: list[tuple[str, str, int | None, float, float]] = [("last", "last", None, 0, 0)]
    for alpha, beta in ((0.2, 0.05), (0.3, 0.1), (0.5, 0.1), (0.5, 0.3), (0.8, 0.2)):
        candidates.append((f"holt a={alpha} b={beta}", "holt", None, alpha, beta))
    for alpha, beta in ((0.2, 0.05), (0.3, 0.1), (0.5, 0.1)):
        candidates.append((f"holt-winters (day) a={alpha} b={beta}", "holt-winters", DAY, alpha, beta))
    rows: list[str] = []
    header = "| series | model | MAE 15 s | MAE 75 s | MAE 75 s / last | short | excess |"
    rows.append(header)
    rows.append("|---|---|---:|---:|---:|---:|---:|")
    for series_name, values, start in (
        (f"Azure LLM conv ({len(real)} ticks, mean {np.mean(real):.1f})", real, real_start),
        (f"diurnal, 3 days ({len(diurnal)} ticks, mean {np.mean(diurnal):.1f})", diurnal, diurnal_start),
    ):
        baseline = math.nan
        for label, model, season, alpha, beta in candidates:
            if season and len(values) * TICK < 2 * season:
                continue  # a season it cannot see twice: nothing to learn
            m = walk(values, start, model, season, alpha or forecasting.ALPHA, beta or forecasting.BETA)
            if model == "last":
                baseline = m["maeh"]
            rows.append(
                f"| {series_name} | {label} | {m['mae1']:.2f} | {m['maeh']:.2f} | {m['maeh'] / baseline:.2f} "
                f"| {m['short']:.2f} | {m['excess']:.2f} |"
            )
            print(rows[-1], flush=True)
    body = (
        "Per-15 s request counts, forecast 15 s and 75 s (start-up 60 s + one tick) ahead, walked tick by "
        "tick through the engine's own `forecasting` functions with 1800 s of history. `short` / "
        "`excess`: mean requests per tick that max(observed, forecast) falls short of / exceeds the "
        "count 75 s later. "
        f"The engine's default is `holt` with a={forecasting.ALPHA}, b={forecasting.BETA} "
        '(docs/engine.md, "Forecast mode", says why).\n\n' + "\n".join(rows)
    )
    print()
    recording.record("forecast-accuracy", "## Forecast accuracy", body)


if __name__ == "__main__":
    main()
