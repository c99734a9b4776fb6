"""The kopf operator: handlers, status, events, hooks. Wiring only.

Rule: calls scaling + metrics + targets (through control's one tick); no decision logic of its own.
Run with `kopf run -m scaleplane.operator` or `scaleplane operator run`: importing this package
registers the handlers (operator.handlers) on kopf's default registry, the Function handlers only
when SCALEPLANE_FUNCTIONS is not false.
"""

import os

import kopf

from scaleplane.operator import handlers as handlers
from scaleplane.operator import settings as _settings

handlers.register(kopf.get_default_registry(), functions=_settings.functions_enabled(os.environ))
