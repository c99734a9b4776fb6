"""The optional rules that only ever add replicas: `schedules`, `forecast`, `sizing` and `burst`.

Each is off unless the policy sets it; each raises what the metrics ask for now, never lowers it: a
floor for a known peak (`scaling.deciding.scheduling`), capacity for the load expected a start-up time
ahead (`deciding.forecasting`), headroom for the load's recent noise or rises (`deciding.sizing`,
`deciding.headroom`) and the peak of a sudden jump held for a while (`deciding.sizing`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from scaleplane.scaling.specs import fields


class ScheduleWindow(fields.SpecModel):
    """A floor for a known peak: from each `cron` firing, for `durationSeconds`, at least `minReplicas`."""

    name: Annotated[str, Field(min_length=1)]
    cron: Annotated[str, Field(min_length=9), AfterValidator(fields.check_cron)]
    duration_seconds: Annotated[int, fields.Range(1, 7 * 86400)]
    min_replicas: Annotated[int, Field(ge=0)]
    timezone: Annotated[str, AfterValidator(fields.check_timezone)] = "UTC"


class Forecast(fields.SpecModel):
    """Pre-scale for the target's start-up time from the recent history of the metrics.

    The engine forecasts each metric `startupSeconds` (plus one tick) ahead and recommends for the
    higher of the observed and the forecast value, so new capacity is ready when the load arrives.
    """

    enabled: bool = True
    model: Literal["holt", "holt-winters", "last"] = "holt"
    startup_seconds: Annotated[int, fields.Range(0, 3600)] = 60
    history_seconds: Annotated[int, fields.Range(60, 7 * 86400)] = 1800
    season_seconds: Annotated[int, Field(ge=60)] | None = None
    error_quantile: (
        Annotated[
            float,
            Field(
                gt=0,
                lt=1,
                allow_inf_nan=False,
                description="Recommend for this quantile of the forecast's own error: forecast + z x the RMS "
                "of its past errors at the same horizon (0.5: the forecast itself; 0.9: 1.28 RMS above it; "
                "0.3: only the part of a rise the forecast is sure of). Unset: the point forecast.",
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _season_for_holt_winters(self) -> Forecast:
        if self.model == "holt-winters" and self.season_seconds is None:
            raise ValueError("model 'holt-winters' needs seasonSeconds (e.g. 86400 for a daily cycle)")
        return self


# Which methods read each setting: one set for another method is a mistake worth naming, not ignoring.
_METHODS_OF = {
    "quantile": ("stdev", "rise"),
    "window_seconds": ("stdev", "rise"),
    "horizon_seconds": ("rise",),
    "beta": ("sqrt",),
}


class Sizing(fields.SpecModel):
    """Size for more than the latest reading: headroom that follows the load (its noise, its rises, its size).

    `method: stdev` (the default): over the last `windowSeconds` (default 300) of a metric's readings
    (as loads, like the forecast's history), recommend for the latest reading plus z(quantile) standard
    deviations of those readings (0.9 -> 1.28, 0.95 -> 1.64): a noisy load gets headroom in proportion
    to its noise, a smooth one none.

    `method: rise`: recommend for the latest reading times (1 + the `quantile` of the load's relative
    rises over `horizonSeconds`, `max(load over (t, t + horizon]) / load(t) - 1`, seen over the last
    `windowSeconds`, default 7200). Set the horizon to the lead time (the query's rate window plus the
    start-up time plus a sync period): the headroom is what the load has actually risen by, recently,
    in the time new capacity takes to count; a load that stays flat gets none.

    `method: sqrt` (square-root staffing, the queueing rule of Halfin and Whitt): recommend `beta` x
    sqrt(n) spare replicas over the n replicas (unrounded) the latest reading asks for at the target.
    Arrivals that are independent (Poisson-like) swing by about sqrt(n) replicas' worth, so the spare
    share falls as the load grows: 16 needed -> 2 spare at beta 0.5, 400 -> 10. Reads no history.
    """

    method: Literal["stdev", "rise", "sqrt"] = "stdev"
    quantile: Annotated[float, Field(ge=0.5, le=0.999, allow_inf_nan=False)] = 0.9
    window_seconds: Annotated[int, fields.Range(30, 86400)] | None = None
    horizon_seconds: Annotated[int, fields.Range(15, 3600)] = 120
    beta: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] = 0.5

    @model_validator(mode="after")
    def _fields_of_method(self) -> Sizing:
        for name in sorted(self.model_fields_set):
            methods = _METHODS_OF.get(name)
            if methods is not None and self.method not in methods:
                alias = type(self).model_fields[name].alias or name
                raise ValueError(
                    f"{alias} is for method {' or '.join(methods)}, "
                    f"was {getattr(self, name)!r} with method {self.method}"
                )
        return self

    @model_validator(mode="after")
    def _window_for_method(self) -> Sizing:
        if self.method == "stdev" and self.window_seconds is not None and self.window_seconds > 3600:
            raise ValueError(
                f"windowSeconds must be 30..3600 with method stdev (it keeps every reading), "
                f"was {self.window_seconds} (method rise keeps a histogram: up to 86400)"
            )
        return self

    @property
    def window(self) -> int:
        """windowSeconds, or its default for the method (stdev 300 s, rise 7200 s)."""
        if self.window_seconds is not None:
            return self.window_seconds
        return 300 if self.method == "stdev" else 7200

    @property
    def history_seconds(self) -> int:
        """The readings the method reads back: the whole window (stdev), or a horizon and a margin of a
        minute for the sync period (rise: older rises live in its histogram, not as readings); sqrt none."""
        if self.method == "sqrt":
            return 0
        return self.window if self.method == "stdev" else self.horizon_seconds + 60


class Burst(fields.SpecModel):
    """A panic mode (Knative's): when a metric jumps, size for it at once and hold the peak a while.

    When a metric's reading is at least `threshold` times what the ready replicas hold at the target
    (threshold 2: twice the target per ready replica), the engine is in burst for `holdSeconds`: it
    recommends at least the replicas of the highest reading seen since the burst began, and never scales
    down meanwhile. Scale-up rate limits still apply; set them generous for bursts to help.
    """

    threshold: Annotated[float, Field(gt=1, le=100, allow_inf_nan=False)] = 2.0
    hold_seconds: Annotated[int, fields.Range(15, 3600)] = 60
