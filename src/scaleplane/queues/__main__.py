"""`python -m scaleplane.queues --redis-url URL --queue jobs --port 9808`: the queue exporter's process.

What the stacks run beside the broker (the operator image, a Deployment scraped through a PodMonitor).
The password, when the broker has one, comes from $REDIS_PASSWORD rather than the command line.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import urllib.parse

import prometheus_client as prom

from scaleplane.queues import watching


def broker_url(url: str, password: str | None) -> str:
    """The URL with the password from the environment put in (redis://:PASSWORD@host:port/db)."""
    if not password:
        return url
    parts = urllib.parse.urlsplit(url)
    netloc = f":{urllib.parse.quote(password, safe='')}@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scaleplane.queues", description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", required=True, help="the broker, redis://host:port/db")
    parser.add_argument(
        "--queue", action="append", dest="queues", help="Celery queue (repeat); default: jobs"
    )
    parser.add_argument("--port", type=int, default=9808, help="port of /metrics (default 9808)")
    parser.add_argument("--ca-file", help="CA certificate of a rediss:// broker with a self-signed one")
    parser.add_argument("--address", default="0.0.0.0", help="address to bind (default all)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port: {args.port} is not a port")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    watch = watching.QueueWatch(
        broker_url(args.redis_url, os.environ.get("REDIS_PASSWORD")),
        args.queues or ["jobs"],
        ca_file=args.ca_file,
    )
    reg = prom.CollectorRegistry()
    reg.register(watch)
    prom.start_http_server(args.port, addr=args.address, registry=reg)
    watch.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    watch.stop()


if __name__ == "__main__":
    main()
