"""scaling.records.quick: a frozen dataclass with a direct __init__ keeps the dataclass's contract."""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from scaleplane.scaling import decisions, records
from scaleplane.scaling.deciding import behaviors, engine, recommending


@records.quick
@dataclasses.dataclass(frozen=True)
class Quick:
    a: int
    b: str = "x"
    c: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Plain:
    a: int
    b: str = "x"
    c: dict[str, int] = dataclasses.field(default_factory=dict)


def test_a_quick_dataclass_takes_the_same_arguments_and_gives_the_same_values() -> None:
    for args, kwargs in (((1,), {}), ((1, "y"), {}), ((), {"a": 2, "c": {"k": 1}}), ((3,), {"b": "z"})):
        quick, plain = Quick(*args, **kwargs), Plain(*args, **kwargs)
        assert dataclasses.asdict(quick) == dataclasses.asdict(plain)
        assert repr(quick).removeprefix("Quick") == repr(plain).removeprefix("Plain")
        assert quick == dataclasses.replace(quick) == pickle.loads(pickle.dumps(quick))
    assert Quick(1).c is not Quick(1).c  # a fresh default per instance, as default_factory promises
    with pytest.raises(dataclasses.FrozenInstanceError):
        Quick(1).a = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        Quick()  # type: ignore[call-arg]


@pytest.mark.parametrize(
    "cls",
    [
        decisions.MetricSample,
        decisions.Observation,
        decisions.MetricRecommendation,
        decisions.Decision,
        decisions.ScalingState,
        engine.Outcome,
        recommending.Combined,
        recommending.Tolerances,
        behaviors.Limited,
    ],
)
def test_the_engines_values_keep_the_signature_the_dataclass_gave_them(cls: type) -> None:
    fields = dataclasses.fields(cls)
    params = list(inspect.signature(cls).parameters.values())
    assert [p.name for p in params] == [f.name for f in fields]
    for param, field in zip(params, fields, strict=True):
        if field.default is not dataclasses.MISSING:
            assert param.default == field.default
        elif field.default_factory is dataclasses.MISSING:
            assert param.default is inspect.Parameter.empty
