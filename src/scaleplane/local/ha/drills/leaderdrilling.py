"""The local backend's operator-leader-loss steps: etcd holds the leader key, two controller replicas
(`fencedcontrolling`) run the real tick, Prometheus with the project's alert rules and Alertmanager
watch them (`alertwatching`), and the fault is a SIGKILL to the leader.

A part of `drilling.LocalBackend`, one method per step id of `drills.scenarios.OPERATOR_LEADER_LOSS`.
Its probe log is the actuation record: each accepted actuation is an acknowledged write (started at its
tick), so RTO is the fault to the standby's first actuation, and RPO counts accepted actuations that
etcd no longer holds. The missed/doubled check is `drills.actuations`.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aetcd
import requests

from scaleplane.drills.engine import actuations, backends, probes
from scaleplane.local import runfiles
from scaleplane.local.ha import etcd, fencedcontrolling, leaderelecting
from scaleplane.local.ha.drills import alertwatching
from scaleplane.local.servers import ports, processes

if TYPE_CHECKING:
    from scaleplane.local.ha.drills.drilling import LocalBackend

REPLICAS = ("controller-a", "controller-b")
STEP, CYCLE = fencedcontrolling.STEP_SECONDS, fencedcontrolling.CYCLE
ALERTS = ("ScaleplaneOperatorNotLeading", "ScaleplaneOperatorDown")
COMMANDS = {
    "start-controllers": [
        "python -m scaleplane.local.ha.fencedcontrolling --etcd $ETCD --prometheus URL "
        "--identity controller-a --metrics-port PORT   # and controller-b"
    ],
    "kill-leader": ["kill -KILL LEADER_PID   # servers/controller-a.pid or servers/controller-b.pid"],
    "detect-leader-lost": ["etcdctl --endpoints $ETCD get /scaleplane/local/controller/leader"],
    "decide-standby-healthy": ["curl -s 127.0.0.1:STANDBY_PORT/metrics | grep '^scaleplane_leader'"],
    "await-takeover": ["etcdctl --endpoints $ETCD get /scaleplane/local/controller/leader -w json"],
    "verify-actuations": ["etcdctl --endpoints $ETCD get --prefix /scaleplane/local/drill/actuations/"],
    "rejoin-old-leader": ["python -m scaleplane.local.ha.fencedcontrolling ... --identity OLD_LEADER"],
    "stop-controllers": ["scaleplane drill recover   # also ends what a killed drill left"],
}  # fmt: skip


class LeaderSteps:
    def __init__(self, backend: LocalBackend) -> None:
        self.backend = backend
        self.etcd: etcd.EtcdServer | None = None
        self.replicas: dict[str, processes.SupervisedProcess] = {}
        self.metrics_ports: dict[str, int] = {}
        self.old_leader: str | None = None
        self.record: list[actuations.Actuation] | None = None
        self.check: actuations.Check | None = None
        self.keys: set[str] = set()  # the actuation keys etcd held at the last read

    def actions(self) -> dict[str, Callable[[float], backends.Outcome]]:
        return {
            "start-controllers": self._start,
            "kill-leader": self._kill,
            "detect-leader-lost": self._detect,
            "decide-standby-healthy": self._decide,
            "await-takeover": self._await_takeover,
            "verify-actuations": self._verify,
            "rejoin-old-leader": self._rejoin,
            "stop-controllers": self.backend.stop_everything,
        }

    # --- reading etcd -------------------------------------------------------------------------------
    def _etcd(self, read: Callable[[aetcd.Client], Any]) -> Any:
        assert self.etcd is not None
        port = self.etcd.client_port

        async def go() -> Any:
            async with aetcd.Client(host=ports.HOST, port=port, timeout=2) as client:
                return await read(client)

        return asyncio.run(go())

    def leader(self) -> tuple[str, int] | None:
        found = self._etcd(lambda c: c.get(leaderelecting.LEADER_KEY))
        return (found.value.decode(), int(found.create_revision)) if found is not None else None

    def actuation_record(self) -> list[actuations.Actuation]:
        found = self._etcd(lambda c: c.get_prefix(fencedcontrolling.ACTUATIONS))
        records = [json.loads(kv.value) for kv in found]
        self.keys = {kv.key.decode() for kv in found}
        return [actuations.Actuation(r["at"], r["replicas"], r["by"], r["token"]) for r in records]

    def _leader_metric(self, name: str | None) -> float | None:
        assert name is not None
        text = requests.get(f"http://{ports.HOST}:{self.metrics_ports[name]}/metrics", timeout=1).text
        for line in text.splitlines():
            if line.startswith("scaleplane_leader "):
                return float(line.split()[1])
        return None

    # --- steps --------------------------------------------------------------------------------------
    def _launch(self, name: str) -> None:
        alerts = self.backend.alerts
        assert self.etcd is not None and alerts is not None
        port = self.metrics_ports.setdefault(name, ports.free_port())
        servers = runfiles.servers_dir(self.backend.state_dir)
        argv: list[str | Path] = [
            sys.executable, "-m", "scaleplane.local.ha.fencedcontrolling", "--etcd",
            f"{ports.HOST}:{self.etcd.client_port}", "--prometheus", alerts.prometheus.url,
            "--identity", name, "--metrics-port", str(port), "--acks", servers / f"{name}.acks.jsonl",
        ]  # fmt: skip
        self.replicas[name] = processes.SupervisedProcess(name, argv, run_dir=servers, stop_timeout=5).start()
        alerts.prometheus.add_target("scaleplane", f"{ports.HOST}:{port}")

    def _start(self, timeout: float) -> backends.Outcome:
        self.backend.claim()
        servers = runfiles.servers_dir(self.backend.state_dir)
        self.etcd = etcd.EtcdServer(servers / "etcd-data", run_dir=servers).start()
        alerts = alertwatching.AlertWatch(self.backend.state_dir, servers, ALERTS).start()
        self.backend.alerts = alerts
        for name in REPLICAS:
            self._launch(name)
        until = self.backend.until
        leading = until(
            lambda: (found := self.leader()) and len(self.actuation_record()) >= 3 and found, timeout
        )
        if not leading:
            return backends.Outcome(False, f"no replica led and actuated within {timeout:g} s")
        self.old_leader = leading[0]
        standby = next(n for n in REPLICAS if n != self.old_leader)
        if not until(
            lambda: self._leader_metric(standby) == 0 and self._leader_metric(self.old_leader) == 1, 20
        ):
            return backends.Outcome(False, "the replicas' scaleplane_leader does not show one leader")
        # The fault waits for a quiet watch, or an alert left from start-up would count as detecting it.
        if not until(lambda: alerts.settled("scaleplane"), 30):
            return backends.Outcome(False, "Prometheus does not see both replicas up with no alert active")
        return backends.Outcome(True, f"{self.old_leader} leads (token {leading[1]}), {standby} stands by")

    def _kill(self, timeout: float) -> backends.Outcome:
        assert self.old_leader is not None
        process = self.replicas[self.old_leader]
        process.signal(signal.SIGKILL)
        gone = self.backend.until(lambda: not process.running(), timeout)
        self.backend.fault_at = self.backend.clock.now()
        self.backend.victim = self.old_leader
        return backends.Outcome(bool(gone), f"{self.old_leader} killed", {"fault": self.backend.fault_at})

    def _since_fault(self) -> list[actuations.Actuation]:
        fault = self.backend.fault_at or 0.0
        return [a for a in self.actuation_record() if a.at >= fault]

    def _detect(self, timeout: float) -> backends.Outcome:
        # The lease outlives its holder by up to `lease` seconds: that is the window detection sees.
        held = self.leader()
        quiet = not self._since_fault()
        ok = quiet and held is not None and held[0] == self.old_leader
        if not quiet:
            return backends.Outcome(True, "the standby already actuated: the lease had expired")
        mark = {"detected": self.backend.clock.now()}
        return backends.Outcome(ok, f"no actuation since the fault; the lease is still {held}", mark)

    def _decide(self, timeout: float) -> backends.Outcome:
        standby = next(n for n in REPLICAS if n != self.old_leader)
        value = self.backend.until(lambda: (v := self._leader_metric(standby)) is not None and (v,), timeout)
        if not value:
            return backends.Outcome(False, f"{standby} does not answer on /metrics")
        return backends.Outcome(True, f"{standby} answers, scaleplane_leader {value[0]:g}")

    def _await_takeover(self, timeout: float) -> backends.Outcome:
        done = self.backend.until(
            lambda: [a for a in self._since_fault() if a.by != self.old_leader], timeout
        )
        if not done:
            return backends.Outcome(False, f"no actuation by the standby within {timeout:g} s")
        first = done[0]
        return backends.Outcome(
            True,
            f"{first.by} actuated {first.at - (self.backend.fault_at or 0):.2f} s after the fault "
            f"(token {first.token})",
            {"failover": first.at},
        )

    def _verify(self, timeout: float) -> backends.Outcome:
        assert self.backend.fault_at is not None and self.old_leader is not None
        self.backend.until(lambda: len(self._since_fault()) >= 5, timeout)  # a few steps after the takeover
        self.record = self.actuation_record()
        self.check = actuations.check(
            self.record,
            self.backend.fault_at,
            self.old_leader,
            step_seconds=STEP,
            cycle=CYCLE,
        )
        c = self.check
        observed = (
            f"{c.actuations} actuations over {c.steps_covered} steps: {len(c.doubled)} doubled, "
            f"{len(c.missed)} missed, {len(c.gap)} during the failover gap, {c.stale} under a stale token"
        )
        if c.unplaced:
            unplaced = [a for a in self.record if actuations.step_of(a, STEP, CYCLE) is None]
            observed += f", {c.unplaced} not of the drill's load: {unplaced}"
        return backends.Outcome(c.ok, observed, self.backend.alert_marks())

    def _rejoin(self, timeout: float) -> backends.Outcome:
        assert self.old_leader is not None
        self._launch(self.old_leader)
        before = len(self.actuation_record())
        ok = self.backend.until(
            lambda: self._leader_metric(self.old_leader) == 0 and len(self.actuation_record()) > before + 2,
            timeout,
        )
        leader = self.leader()
        return backends.Outcome(
            bool(ok) and leader is not None and leader[0] != self.old_leader,
            f"{self.old_leader} stands by; {leader[0] if leader else 'nobody'} leads",
            {"fail back": self.backend.clock.now()},
        )

    # --- what the backend reads and stops -----------------------------------------------------------
    def probe_log(self) -> probes.ProbeLog:
        """Acknowledged writes: what each replica was told etcd committed (its own log, which outlives
        a SIGKILL); surviving: those whose key etcd holds at the data check."""
        acked = []
        for name in REPLICAS:
            path = runfiles.servers_dir(self.backend.state_dir) / f"{name}.acks.jsonl"
            if path.exists():
                acked += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        acked.sort(key=lambda a: a["at"])
        attempts = tuple(
            probes.Attempt("write", a["at"], a["at"], True, seq=i, served_by=a["by"])
            for i, a in enumerate(acked)
        )
        surviving = frozenset(i for i, a in enumerate(acked) if a["key"] in self.keys)
        return probes.ProbeLog(attempts, surviving, checked=self.record is not None)

    def stop(self) -> None:
        for process in self.replicas.values():
            process.stop()
        if self.etcd is not None:
            self.etcd.stop()
