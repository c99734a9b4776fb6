"""The scaleplane Pulumi program: read the stack's config, build the Platform, export its endpoints.

Everything else lives in `scaleplane.infra`; see docs/infrastructure.md.
"""

from pathlib import Path

import pulumi

from scaleplane.infra import config, platform

PROJECT_ROOT = Path(__file__).resolve().parent.parent

settings = config.from_pulumi()
built = platform.Platform(f"scaleplane-{settings.environment}", settings, PROJECT_ROOT)
for name, value in built.outputs.items():
    pulumi.export(name, value)
