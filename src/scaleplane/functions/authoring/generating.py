"""Generated functions: a description in, a handler and its unit tests out, run in a sandbox first.

`generate(description, ...)` asks any OpenAI-compatible chat endpoint (a local llama.cpp, vLLM or
Ollama server, or a hosted one: POST <endpoint>/v1/chat/completions) for two files, `handler.py` (a
`main` with typed parameters, per functions.handlers) and `test_handler.py` (plain `test_*` functions
with asserts), writes them with a function.yaml, and runs the tests in a sandboxed process:

    no network   the process runs in a network namespace of its own (`unshare --net`, when this machine
                 allows it), else with Python's socket creation disabled (weaker: C extensions could
                 still open sockets); `Generated.sandbox` says which
    time         `timeout_seconds` of wall time (then the process group is killed) and as much CPU time
    memory       an address-space limit of `memory_mb` (RLIMIT_AS)

Only when every test passes is the result marked deployable; the prompt, the model's answer and the
test results are kept in `generation.json` next to the files, and with the version when it is deployed.

The chat protocol is one POST with a JSON body; it is written here with requests (already a dependency)
rather than the openai SDK, which would add httpx and its tree for that one call.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

import scaleplane

SYSTEM_PROMPT = """You write Python functions for the scaleplane function platform.
Answer with exactly two fenced code blocks and nothing else of substance:
1. ```python handler.py``` - a module with a function `main` whose parameters have type hints and whose
   return value is JSON-serialisable. To refuse bad input, raise
   `scaleplane.functions.handlers.FunctionError(message, status=422, code="...")`. Standard library only.
2. ```python test_handler.py``` - plain functions named test_* that `import handler` and use assert.
   No pytest fixtures, no network, no files."""
BLOCK = re.compile(r"```(?:python|py)?[ \t]*([\w.\-/]*)[ \t]*\n(.*?)```", re.S)
RUNNER = """
import json, sys, traceback
sys.path.insert(0, '.')
results = []
try:
    import test_handler
except BaseException as exc:
    print(json.dumps([{"test": "import test_handler", "ok": False, "error": f"{type(exc).__name__}: {exc}"}]))
    sys.exit(0)
for name in sorted(n for n in dir(test_handler) if n.startswith("test_")):
    try:
        getattr(test_handler, name)()
        results.append({"test": name, "ok": True})
    except BaseException as exc:
        results.append({"test": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"})
print(json.dumps(results))
"""
NO_SOCKETS = """
import socket
def _refuse(*args, **kwargs):
    raise PermissionError("network access is disabled in the scaleplane test sandbox")
socket.socket = _refuse
socket.create_connection = _refuse
"""


class GenerationError(RuntimeError):
    """The endpoint failed or answered something unusable; the message says what."""


@dataclass
class Generated:
    directory: Path
    passed: bool
    tests: list[dict[str, Any]]
    sandbox: str
    record: dict[str, Any] = field(default_factory=dict)


def ask(endpoint: str, model: str, description: str, *, api_key: str | None, timeout: float) -> str:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    body = {
        "model": model,
        "temperature": 0,
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": description}],
    }
    url = f"{endpoint.rstrip('/')}/v1/chat/completions"
    try:
        answer = requests.post(url, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise GenerationError(f"{url}: {exc}") from None
    if answer.status_code != 200:
        raise GenerationError(f"{url} answered {answer.status_code}: {answer.text[:300]}")
    try:
        return str(answer.json()["choices"][0]["message"]["content"])
    except (ValueError, KeyError, IndexError, TypeError):
        raise GenerationError(f"{url}: not an OpenAI-style chat completion: {answer.text[:300]}") from None


def split_files(content: str) -> dict[str, str]:
    """handler.py and test_handler.py from the answer's fenced blocks (named, else in that order)."""
    blocks = BLOCK.findall(content)
    named = {Path(name).name: code for name, code in blocks if name.endswith(".py")}
    if {"handler.py", "test_handler.py"} <= set(named):
        return {k: named[k] for k in ("handler.py", "test_handler.py")}
    if len(blocks) >= 2:
        return {"handler.py": blocks[0][1], "test_handler.py": blocks[1][1]}
    raise GenerationError(
        f"the answer has {len(blocks)} code block(s); two are needed (handler.py, test_handler.py)"
    )


def network_isolation() -> list[str] | None:
    """The argv prefix that runs a command without network, if this machine allows it."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    try:
        probe = subprocess.run([unshare, "--net", "true"], capture_output=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return [unshare, "--net"] if probe.returncode == 0 else None


def run_tests(directory: Path, *, timeout_seconds: float, memory_mb: int) -> tuple[list[dict[str, Any]], str]:
    """Run test_handler.py's tests in a sandboxed process; (results, which sandbox)."""
    prefix = network_isolation()
    sandbox = "network namespace (unshare --net)" if prefix else "Python sockets disabled"
    site = directory / ".sandbox"
    site.mkdir(exist_ok=True)
    if prefix is None:
        (site / "sitecustomize.py").write_text(NO_SOCKETS)
    # The directory that holds the scaleplane package, so a handler can import it; never the package's
    # own directory, whose `operator` would shadow the standard library's.
    scaleplane_root = str(Path(scaleplane.__file__).resolve().parents[1])
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(site), scaleplane_root]),
           "PYTHONDONTWRITEBYTECODE": "1", "HOME": str(directory)}  # fmt: skip

    def limits() -> None:
        cpu = max(1, int(timeout_seconds))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))  # SIGXCPU at cpu s, SIGKILL 1 s later
        memory = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    argv = [*(prefix or []), sys.executable, "-s", "-c", RUNNER]  # -s: no user site-packages
    process = subprocess.Popen(
        argv, cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=limits, start_new_session=True,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return [{"test": "(all)", "ok": False, "error": f"timed out after {timeout_seconds:g} s"}], sandbox
    if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL) and not out.strip():
        # The CPU limit ended it before the wall clock did (a loaded machine gives a spinning test
        # its CPU seconds before the same number of wall seconds pass): the same verdict.
        return [{"test": "(all)", "ok": False, "error": f"timed out after {timeout_seconds:g} s"}], sandbox
    try:
        results = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = err.decode(errors="replace").strip().splitlines()[-3:]
        reason = f"the test process exited {process.returncode} ({'; '.join(tail) or 'no output'})"
        return [{"test": "(all)", "ok": False, "error": reason}], sandbox
    if not results:
        results = [{"test": "(all)", "ok": False, "error": "test_handler.py has no test_* function"}]
    return results, sandbox


def generate(
    description: str, directory: Path, *, name: str, namespace: str, endpoint: str, model: str,
    api_key: str | None = None, timeout_seconds: float = 20.0, memory_mb: int = 512,
    request_timeout: float = 120.0,
) -> Generated:  # fmt: skip
    asked_at = time.time()
    content = ask(endpoint, model, description, api_key=api_key, timeout=request_timeout)
    files = split_files(content)
    directory.mkdir(parents=True, exist_ok=True)
    for filename, code in files.items():
        (directory / filename).write_text(code)
    (directory / "function.yaml").write_text(
        "apiVersion: scaleplane.io/v1alpha1\nkind: Function\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\n"
        "spec:\n  handler: handler.py:main\n  minReplicas: 0\n  maxReplicas: 5\n  idleSeconds: 60\n"
    )
    tests, sandbox = run_tests(directory, timeout_seconds=timeout_seconds, memory_mb=memory_mb)
    passed = all(t["ok"] for t in tests)
    record = {
        "description": description, "endpoint": endpoint, "model": model, "askedAt": asked_at,
        "systemPrompt": SYSTEM_PROMPT, "answer": content, "tests": tests, "passed": passed,
        "sandbox": sandbox, "limits": {"timeoutSeconds": timeout_seconds, "memoryMb": memory_mb},
    }  # fmt: skip
    (directory / "generation.json").write_text(json.dumps(record, indent=2) + "\n")
    return Generated(directory, passed, tests, sandbox, record)


def summary(result: Generated) -> dict[str, Any]:
    return {**asdict(result), "directory": str(result.directory)}
