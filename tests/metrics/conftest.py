"""Helpers for the metrics adapter's tests: a real exporter, and a server that answers like a broken
Prometheus (slow, 5xx, not JSON) for the faults a real Prometheus will not produce on demand.

`exporter` (module): a prometheus_client registry served on 127.0.0.1 (free port) whose gauges the test
    sets: `exporter.gauge(name, labels=())` returns a Gauge, `exporter.address` is "127.0.0.1:PORT".
`broken_prometheus` (function): `broken_prometheus(status=200, body=b"...", delay=0.0)` -> base URL of an
    HTTP server answering every request that way; stopped at the end of the test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server


class TestExporter:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._gauges: dict[str, Gauge] = {}
        self.server, self.thread = start_http_server(0, addr="127.0.0.1", registry=self.registry)
        self.address = f"127.0.0.1:{self.server.server_port}"

    def gauge(self, name: str, labels: tuple[str, ...] = ()) -> Gauge:
        if name not in self._gauges:
            self._gauges[name] = Gauge(name, f"test gauge {name}", labels, registry=self.registry)
        return self._gauges[name]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def exporter() -> Iterator[TestExporter]:
    exp = TestExporter()
    try:
        yield exp
    finally:
        exp.close()


@pytest.fixture
def broken_prometheus() -> Iterator[Callable[..., str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(status: int = 200, body: bytes = b"", delay: float = 0.0) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first, which is what a timeout test wants

            def log_message(self, *_: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    try:
        yield start
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
