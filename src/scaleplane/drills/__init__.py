"""Disaster-recovery drills: scenarios as data, the engine that runs one against a backend, and the
measures (RTO, RPO) and reports that come out of it.

Rule: adapter layer. A scenario is a frozen value (steps with expected outcomes, timeouts, objectives, a
rollback); the engine (`running`) walks it against a `backends.Backend` with an injected clock and
never sleeps or reads the time itself; `measures` turns what the probes saw into RTO and RPO as a pure
function. Only the backends and `probing` touch servers. The failover under test is never written here:
backends inject a fault and watch what the real HA system (Patroni, Sentinel, RDS) does.
The remote backends live here, on one shape (`actions.TableBackend`: step id -> what runs and the
runbook's commands): aws (`aws`, boto3; its parts `awsdatabases`, `awsreplicas`, `awsrestores`,
`awscaches`, `fisexperiments`) and kubernetes (`kubernetes`; `cnpgfailovers`, `cnpgrestores`,
`operatorleases`). A backend that starts the single-machine platform's servers lives on the entry layer
(`scaleplane.local.ha.drilling`). The command line fills the registry.
"""
