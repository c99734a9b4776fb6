"""The function pool: real HTTP handler processes on their own ports, published when ready, to zero."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest
import requests

from scaleplane.local.pools import functions
from scaleplane.local.servers import processes


def handler_command(root: Path) -> list[str]:
    (root / "hello.txt").write_text("hello from a function\n")
    return [sys.executable, "-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", str(root)]


async def test_scales_up_serves_and_scales_to_zero(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    pool = functions.FunctionPool("fn", tmp_path / "state", command=handler_command(site), grace=0.1)
    await pool.open(0)
    try:
        assert json.loads(pool.endpoints_file.read_text()) == {"endpoints": []}
        await pool.scale(2)
        await pool.wait_ready(2, timeout=30)
        urls = pool.endpoints()
        assert len(set(urls)) == 2
        assert [e["url"] for e in json.loads(pool.endpoints_file.read_text())["endpoints"]] == urls
        for url in urls:
            assert requests.get(f"{url}/hello.txt", timeout=5).text == "hello from a function\n"
        pids = [m.handle.process.pid for m in pool.members.values()]

        await pool.scale(0)
        assert (await pool.read()).ready == 0
        await pool.wait_ready(0, timeout=30)
        assert json.loads(pool.endpoints_file.read_text()) == {"endpoints": []}
        assert all(processes.start_ticks(pid) is None for pid in pids)
    finally:
        await pool.close()


async def test_a_function_that_cannot_start_is_reported_and_retried(tmp_path: Path) -> None:
    pool = functions.FunctionPool(
        "bad", tmp_path, command=["sh", "-c", "echo 'no handler on {port}'; exit 1"]
    )
    await pool.open(1)
    try:
        with pytest.raises(TimeoutError, match="no handler on"):
            await pool.wait_ready(1, timeout=3)
        assert (await pool.read()).ready == 0
        assert len(pool.errors) >= 2, "the pool retries after a back-off"
    finally:
        await pool.close()
    assert not list(tmp_path.glob("bad/*.pid"))


def test_the_command_must_take_a_port(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must contain '\\{port\\}', got \\['serve'\\]"):
        functions.FunctionPool("fn", tmp_path, command=["serve"])


async def test_a_member_that_dies_is_replaced(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    pool = functions.FunctionPool("fn", tmp_path / "state", command=handler_command(site), grace=0.1)
    await pool.open(2)
    try:
        await pool.wait_ready(2, timeout=30)
        victim = pool.members["fn-1"].handle.process
        os.kill(victim.pid, signal.SIGKILL)
        while victim.running():  # what a crash looks like to the pool
            await asyncio.sleep(0.05)
        count = await pool.read()
        assert (count.current, count.ready) == (2, 1), "a dead member stops counting at the next read"
        assert "fn-1 exited unexpectedly" in pool.errors[-1]
        await pool.wait_ready(2, timeout=30)
        assert "fn-1" not in pool.members and "fn-3" in pool.members
        assert victim.pid not in [m.handle.process.pid for m in pool.members.values()]
        assert len(json.loads(pool.endpoints_file.read_text())["endpoints"]) == 2
    finally:
        await pool.close()
