"""`python -m scaleplane.gateway --config gateway.yaml`: the gateway process (see scaleplane.gateway)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from scaleplane.functions.gateway import settings
from scaleplane.gateway import serving


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scaleplane.gateway", description="The function gateway.")
    parser.add_argument("--config", type=Path, required=True, help="the gateway's YAML settings file")
    parser.add_argument("--listen", help="host:port, overrides the file's `listen`")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = settings.load(args.config)
        if args.listen:
            config = settings.GatewaySettings.model_validate({**config.model_dump(), "listen": args.listen})
    except (settings.SettingsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    asyncio.run(serving.serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
