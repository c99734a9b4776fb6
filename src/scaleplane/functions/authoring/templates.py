"""What `scaleplane fn new` writes: a handler, its function.yaml and mock cases that pass as written.

`HANDLER` and `DESCRIPTOR` are `str.format` templates (fields `name`, `namespace`); `MOCK_CASES` is the
list written to mock.json (testing's format).
"""

from __future__ import annotations

from typing import Any

HANDLER = '''"""{name}: a function. Parameters are typed; the result is any JSON-able value."""

from scaleplane.functions.handlers import FunctionError


def main(name: str, excited: bool = False) -> dict[str, str]:
    if not name:
        raise FunctionError("name must not be empty", status=422, code="EmptyName")
    return {{"greeting": f"hello {{name}}" + ("!" if excited else "")}}
'''
DESCRIPTOR = """apiVersion: scaleplane.io/v1alpha1
kind: Function
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  handler: handler.py:main
  concurrency: 4        # calls in flight per instance before another starts
  minReplicas: 0        # 0: scales to zero when idle; 1 or more: always on
  maxReplicas: 5
  idleSeconds: 60       # back to zero this long after the last call
"""
MOCK_CASES: list[dict[str, Any]] = [
    {"params": {"name": "Ada"}, "expect": {"greeting": "hello Ada"}},
    {"params": {"name": "Ada", "excited": True}, "expect": {"greeting": "hello Ada!"}},
    {"params": {"name": ""}, "expectError": "EmptyName"},
    {"params": {}, "expectError": "InvalidParameters"},
]
