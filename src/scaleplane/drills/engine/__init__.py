"""The drill engine: scenarios as data, the runner that walks one against a backend, and the measures.

- `steps`: a scenario's frozen shape (steps with a phase, an expected outcome and a timeout; objectives;
  a rollback). `failovers`, `restores`, `leaderlosses`: the scenarios; `scenarios`: their registry.
- `backends`: the `Backend` Protocol every target implements, its `Outcome`, and the registry.
- `running`: plan or run a scenario on a backend; `probes`: what the data-plane probes saw, as values;
  `measures`: RTO and RPO from them; `actuations`: the operator-leader-loss drill's actuation check.

Rule: pure. The clock is a parameter (`running.Clock`): nothing here reads the time, sleeps, starts a
thread, opens a file or a connection, or imports a client library or another part of `drills`, so a
whole drill runs on a fake clock and a fake backend in milliseconds (import-linter checks it).
"""
