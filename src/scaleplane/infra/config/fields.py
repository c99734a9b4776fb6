"""The pieces every stack-config model is built from: the namespace, the error, the base model and the
checked field types.

A check raises a ValueError (a DurationError is one) whose text is the user's message; pydantic
reports it on the key, and `parsing.parse` prefixes the key's path in the namespace
(`scaleplane:database.storageSize: ...`), so the wording of the checks is part of the contract.

Keys are camelCase on the wire (`pulumi config set --path database.readReplicas`), snake_case in
Python; `populate_by_name` lets code build a model with either. Models are frozen: a config is read
once, at the edge, and the components only read it.
"""

from __future__ import annotations

from typing import Annotated

import pulumi
from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from scaleplane import images
from scaleplane.inputs import durations, quantities

NAMESPACE = "scaleplane"


# A RunError, so that under `pulumi up` the program stops with the message alone (Pulumi prints any
# other exception with the program's source and a traceback); a ValueError, so that callers outside
# Pulumi (the plan, `scaleplane cost`) catch it as the bad input it is.
class ConfigError(pulumi.RunError, ValueError):
    """Invalid stack config. `problems` holds one line per bad key: `scaleplane:key.path: what, was VALUE`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[str]]]:
        # BaseException pickles `args` (the joined sentence), which would come back as `problems`.
        return (type(self), (self.problems,))


def _duration(text: str) -> str:
    durations.seconds(text)  # a DurationError is a ValueError: pydantic reports it on the key
    return text


def _image(text: str) -> str:
    return images.check(text) if text else text  # empty: the default image


def _app_image(text: str) -> str:
    # The user's own image: a reference the kubelet can pull; a moving tag is their choice.
    return images.check(text, pinned=False, example="registry.example.com/team/app") if text else text


Quantity = Annotated[str, AfterValidator(quantities.check)]  # Kubernetes' `250m`, `256Mi`, `20Gi`
PromDuration = Annotated[str, AfterValidator(_duration)]  # Prometheus' `15d`, `2w`, `1h30m`
# Scaleplane's own image needs a tag or a digest (never an implied :latest), so every node runs the
# build that was planned; the workers' image is the user's application, where that is their choice.
OperatorImage = Annotated[str, AfterValidator(_image)]
AppImage = Annotated[str, AfterValidator(_app_image)]


class ConfigModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)
