"""What a local platform is started with: its config, its policies, and what start-up reports.

`PlatformConfig` is checked when it is built (a tick outside 0.2..600 s is refused); `load_policies`
reads the policy files and the Functions' generated policies and checks that each names a target the
platform can build, so a bad file stops `local up` before any server runs. `PlatformError` (and
`AlreadyRunning`, a second platform on one state directory) is the one error start-up raises, with a
message that says what to do; `Progress` carries the start-up steps to the CLI's spinner and the notes
shown once the platform runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scaleplane.local import policyfiles, runfiles
from scaleplane.local.pools import functionhome, targetkinds

DEFAULT_TICK_SECONDS = 5.0


class PlatformError(RuntimeError):
    """The platform cannot start; the message says why and what to do."""


class AlreadyRunning(PlatformError):
    pass


@dataclass(frozen=True)
class PlatformConfig:
    """One platform's knobs (the CLI's `local up` and `demo` set the first three and `ha_database`).

    state_dir           everything the platform writes (`runfiles` has the layout); one platform each
    policies            a policy file or a directory of them (the built-in three by default)
    tick_seconds        between the starts of two ticks, 0.2..600
    scrape_interval     Prometheus's scrape and rule evaluation interval
    wait_ready_seconds  how long start-up waits for each pool's first members (it goes on without them)
    """

    state_dir: Path = runfiles.DEFAULT_STATE_DIR
    policies: Path = policyfiles.BUILTIN_DIR
    tick_seconds: float = DEFAULT_TICK_SECONDS
    scrape_interval: str = "1s"
    wait_ready_seconds: float = 90.0
    gateway_port: int | None = None  # the function gateway's port (a free one when None)
    ha_database: bool = False  # the database on Patroni + etcd (leader, sync standby), not one server

    def __post_init__(self) -> None:
        if not 0.2 <= self.tick_seconds <= 600:
            raise ValueError(f"tick must be 0.2..600 seconds, was {self.tick_seconds}")


@dataclass
class Progress:
    """Start-up steps, for the CLI's spinner (`on_step`) and for `notes` shown afterwards."""

    on_step: Callable[[str], None] = lambda _: None
    notes: list[str] = field(default_factory=list)


def load_policies(path: Path) -> list[policyfiles.PolicyFile]:
    """The policy files (with one generated per Function), each checked to name a target we can build."""
    found = policyfiles.load(path)
    declared = functionhome.load(path)
    found = sorted([*found, *functionhome.policies(declared, found)], key=lambda p: p.name)
    pools = {d.pool_name: d for d in declared}
    for policy in found:
        targetkinds.check(policy, pools)
    return found
