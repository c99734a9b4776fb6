"""The pieces every spec model is built from: the base model and the checked field types.

Each check raises a ValueError whose text is the user's message (`parse_policy` prefixes the field's
path and appends the bad value), so the wording here is part of the contract the tests hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import cronsim
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

from scaleplane.inputs import quantities as input_quantities


@dataclass(frozen=True)
class Range:
    """`Annotated[int, Range(1, 1800)]`: an int in [lower, upper], whose error names both ends.

    pydantic's own ge/le report only the side that failed; the HPA-style message `must be 1..1800`
    tells the user the whole valid range at once.
    """

    lower: int
    upper: int

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        json_schema = handler(schema)
        json_schema.update(minimum=self.lower, maximum=self.upper)
        return json_schema

    def _check(self, value: int) -> int:
        if not self.lower <= value <= self.upper:
            raise ValueError(f"must be {self.lower}..{self.upper}")
        return value


class SpecModel(BaseModel):
    """Base of every spec model: camelCase aliases, unknown keys rejected, immutable."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


def check_quantity(value: int | str) -> int | str:
    """A Kubernetes quantity (`500m`, `512Mi`, `2`), as the HPA's averageValue takes it; > 0."""
    if isinstance(value, str):
        input_quantities.check(value)
    if input_quantities.value_of(value) <= 0:
        raise ValueError("must be a quantity > 0 (e.g. 500m of CPU, 512Mi of memory)")
    return value


Quantity = Annotated[
    int | str,
    AfterValidator(check_quantity),
    WithJsonSchema(
        {
            "x-kubernetes-int-or-string": True,
            "description": "a Kubernetes quantity: 500m, 2, 512Mi",
        }
    ),
]


CONTAINER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def check_container(name: str) -> str:
    if not CONTAINER_NAME.match(name):
        raise ValueError("must be a container name (a DNS label: lowercase letters, digits and '-')")
    return name


def check_cron(expression: str) -> str:
    """A 5-field cron expression that cronsim (the scheduler's library) accepts, or a ValueError."""
    try:
        cronsim.CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except cronsim.CronSimError as exc:
        raise ValueError(f"not a valid cron expression ({exc})") from None
    return expression


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        raise ValueError("not a known IANA time zone (e.g. UTC, Europe/Paris)") from None
    return name
