"""The kubernetes drill backend: the scenarios on a CloudNativePG `Cluster` and on the scaleplane operator.

- `drilling`: `KubernetesBackend`, the backend (the API client, the fault: Pod deletion or Chaos Mesh).
- `cnpgfailovers`: primary and replica loss on a CNPG Cluster; `cnpgrestores`: point-in-time restore
  into a new Cluster from a CNPG Backup.
- `operatorleases`: operator-leader-loss, the operator Pod holding the Lease goes.

Rule: an adapter on `actions.TableBackend`, on the kubernetes client only. The fault is injected; the
recovery is the operator's (CNPG's or scaleplane's), which the drill reads and never patches. The table
is built without I/O, so `plan` and the runbook test need no cluster. Never imports the aws adapters
(import-linter checks it).
"""
