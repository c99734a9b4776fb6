"""What the probes saw: one record per attempted write or read, and the data check after recovery.

A write is *acknowledged* when the database answered its COMMIT; only acknowledged writes count for
RPO (a write whose COMMIT got no answer may or may not be there: it was never promised to anyone).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Attempt:
    """One probe operation: `seq` is the write's number (or the value a read returned); times come from
    the drill's clock, in seconds."""

    kind: str  # "write" | "read"
    started: float
    finished: float
    ok: bool
    seq: int | None = None
    served_by: str = ""
    error: str = ""


@dataclass(frozen=True)
class ProbeLog:
    attempts: tuple[Attempt, ...] = ()
    surviving: frozenset[int] = field(default_factory=frozenset)
    """The write numbers found on the recovered primary (the data check)."""
    checked: bool = False
    """True once `surviving` was read back; RPO is unknown without it."""

    def writes(self) -> list[Attempt]:
        return [a for a in self.attempts if a.kind == "write"]

    def reads(self) -> list[Attempt]:
        return [a for a in self.attempts if a.kind == "read"]

    def acknowledged(self) -> list[Attempt]:
        return [a for a in self.writes() if a.ok]
