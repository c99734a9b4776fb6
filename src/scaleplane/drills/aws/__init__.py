"""The aws drill backend: the scenarios on the AWS services users run them on (boto3).

- `drilling`: `AwsBackend`, the backend (its clients, the stop condition, the fault injection) choosing
  one part per scenario and kind.
- `databases`: RDS primary loss on Aurora and Multi-AZ; `replicas`: on a read replica (promotion);
  `restores`: RDS point-in-time restore; `caches`: ElastiCache primary loss.
- `experiments`: the AWS FIS experiment and its CloudWatch-alarm stop condition.

Rule: an adapter on `actions.TableBackend` (step id -> what runs and the runbook's commands). The fault
is injected (FIS, or a bare API call); the recovery is AWS's, which the drill only watches. The table is
built without I/O and the clients are made on first use, so `plan` and the runbook test need no account.
Never imports the kubernetes adapters (import-linter checks it).
"""
