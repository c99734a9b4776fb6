"""Disaster-recovery drills: scenarios as data, the engine that runs one against a backend, and the
measures (RTO, RPO) and reports that come out of it. The failover under test is never written here:
backends inject a fault and watch what the real HA system (Patroni, Sentinel, RDS, CNPG) does.

Rule: adapter layer, in layers of its own (import-linter checks them), top to bottom:
- `aws/` and `kubernetes/`: the remote backends, one package per cloud, never importing each other.
- `actions`: the one shape both remote backends share (`TableBackend`: step id -> what runs and the
  runbook's commands, and the probe steps every remote target does alike).
- `probing/`: the data-plane probes (PostgreSQL, Redis) and the wall clock; `reporting/`: what a drill
  leaves behind (JSON, Markdown, history, timeline PNG).
- `engine/`: pure. Scenarios, the `Backend` Protocol and its registry, the runner with an injected
  clock, RTO and RPO as a pure function of what the probes saw.
A backend that starts the single-machine platform's servers lives on the entry layer
(`scaleplane.local.ha.drills.drilling`). The command line fills the registry.
"""
