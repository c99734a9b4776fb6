"""`scaleplane fn generate`: a local server speaking the OpenAI chat protocol answers with scripted files
(no model runs here); the generated tests run in the sandbox (no network, time and memory limits)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scaleplane.cli import app as cli_app
from scaleplane.cli import functions as _commands  # noqa: F401  (registers `fn`, generate too)
from tests.support import functioning

pytestmark = pytest.mark.servers
HANDLER, GOOD_TESTS = functioning.ADDER_HANDLER, functioning.ADDER_TESTS


async def generate(tmp_path: Path, chat: functioning.ScriptedChat, *extra: str) -> tuple[int, str]:
    args = ["fn", "generate", "add two natural numbers", "--name", "adder", "--namespace", "demo",
            "--endpoint", chat.url, "--model", "scripted", "--dir", str(tmp_path), *extra]  # fmt: skip
    result = await asyncio.to_thread(CliRunner().invoke, cli_app.app, args)
    return result.exit_code, result.output


async def test_a_generated_function_whose_tests_pass_is_written_with_its_record(tmp_path: Path) -> None:
    async with functioning.ScriptedChat(functioning.chat_answer(HANDLER, GOOD_TESTS)) as chat:
        code, output = await generate(tmp_path, chat)
    assert code == 0, output
    assert "PASS test_adds" in output and "PASS test_refuses_negatives" in output
    assert chat.requests[0]["messages"][1]["content"] == "add two natural numbers"
    record = json.loads((tmp_path / "adder" / "generation.json").read_text())
    assert (
        record["passed"] is True
        and record["model"] == "scripted"
        and "```python handler.py" in record["answer"]
    )
    test = await asyncio.to_thread(CliRunner().invoke, cli_app.app, ["fn", "test", str(tmp_path / "adder"),
                                   "--params", '{"a": "4", "b": 5}'])  # fmt: skip
    assert '{"sum": 9}' in test.output


@pytest.mark.parametrize(
    ("tests", "extra", "expected"),
    [
        (
            "import handler\n\ndef test_wrong():\n    assert handler.main(2, 2) == {'sum': 5}\n",
            (),
            "FAIL test_wrong",
        ),
        (
            "import socket\n\ndef test_phones_home():\n"
            "    socket.create_connection(('127.0.0.1', PORT), timeout=2)\n",
            (),
            "FAIL test_phones_home",
        ),
        (
            "def test_spins():\n    while True:\n        pass\n",
            ("--test-timeout", "2"),
            "timed out after 2 s",
        ),
        ("def test_hogs():\n    x = bytearray(2 * 1024 ** 3)\n", ("--test-memory", "256"), "MemoryError"),
    ],
    ids=["failing", "network", "time", "memory"],
)
async def test_a_function_whose_tests_fail_is_not_deployed(
    tmp_path: Path, tests: str, extra: tuple[str, ...], expected: str
) -> None:
    async with functioning.ScriptedChat() as chat:  # its own port is one the sandbox must not reach
        chat.answers = [functioning.chat_answer(HANDLER, tests.replace("PORT", chat.url.rpartition(":")[2]))]
        code, output = await generate(tmp_path, chat, *extra)
    assert code == 1, output
    assert expected in output
    assert "error: the generated tests did not all pass: not deployed" in output
    assert json.loads((tmp_path / "adder" / "generation.json").read_text())["passed"] is False


async def test_an_unusable_answer_or_a_dead_endpoint_is_one_error_line(tmp_path: Path) -> None:
    async with functioning.ScriptedChat("I cannot help with that.") as chat:
        code, output = await generate(tmp_path, chat)
    assert (code, output.strip()) == (
        1, "error: the answer has 0 code block(s); two are needed (handler.py, test_handler.py)",
    )  # fmt: skip
    code, output = await generate(tmp_path / "other", chat)  # the server is gone now
    assert code == 1 and output.startswith("error: http://127.0.0.1:") and "Traceback" not in output
