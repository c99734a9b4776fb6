"""The kopf operator: handlers, status, events, hooks. Wiring only.

Rule: calls scaling + metrics + targets (through control's one tick); no decision logic of its own.
Run with `kopf run -m scaleplane.operator` or `scaleplane operator run`: importing this package
registers the handlers (operator.wiring.handlers) on kopf's default registry, the Function handlers only
when SCALEPLANE_FUNCTIONS is not false.

By role, top to bottom (the import-linter contracts in pyproject.toml keep this order):

    wiring/      how it starts, what kopf calls, what it connects to (handlers, runtime, settings)
    loop/        the control loop and leadership (looping, leasing)
    records/     each policy's record: the registry, what a tick writes back, how it is read back
    manifests/   the resources as data, pure: CRDs, RBAC, a Function's children
    releases/    the cluster side of `scaleplane fn` (versions, logs), for the CLI only
"""

import os

import kopf

from scaleplane.operator.wiring import handlers
from scaleplane.operator.wiring import settings as _settings

handlers.register(kopf.get_default_registry(), functions=_settings.functions_enabled(os.environ))
