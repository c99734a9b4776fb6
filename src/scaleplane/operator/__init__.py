"""The kopf operator: handlers, status, events, hooks. Wiring only.

Rule: calls scaling + metrics + targets (through control's one tick); no decision logic of its own.
Run with `kopf run -m scaleplane.operator` or `scaleplane operator run`: importing this package
registers the handlers (operator.handlers) on kopf's default registry.
"""

from scaleplane.operator import handlers as handlers
from scaleplane.operator import waking as waking
