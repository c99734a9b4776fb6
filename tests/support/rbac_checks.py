"""What an API request needs from RBAC, and whether a set of RBAC manifests grants it.

Evaluates Roles and ClusterRoles with their bindings, namespaces and resourceNames, as the API server's
RBAC authorizer does, over the requests kmock recorded (`for request in cluster`). Requests sent with
`User-Agent: TEST_AGENT` are the test's own set-up and are not checked. Used by the operator RBAC e2e
(tests/e2e/test_operator_rbac.py) and the deployed-loop e2e (tests/e2e/test_deployed_loop.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TEST_AGENT = "scaleplane-rbac-test"
OPERATOR_ACCOUNT = {"kind": "ServiceAccount", "name": "scaleplane-operator", "namespace": "scaleplane-system"}


@dataclass(frozen=True)
class Need:
    """What one request needs from RBAC."""

    group: str
    resource: str
    verb: str
    namespace: str | None
    name: str | None


@dataclass(frozen=True)
class Grant:
    scope: str | None  # None: everywhere (a ClusterRole bound by a ClusterRoleBinding)
    group: str
    resource: str
    verb: str
    names: tuple[str, ...]

    def allows(self, need: Need) -> bool:
        if (self.group, self.resource, self.verb) != (need.group, need.resource, need.verb):
            return False
        if self.scope is not None and need.namespace != self.scope:
            return False
        return not self.names or (need.name in self.names and need.verb not in ("list", "watch", "create"))


def grants(docs: list[dict[str, Any]], subject: dict[str, str] | None = None) -> set[Grant]:
    """Every (scope, group, resource, verb) the bindings among `docs` give; each binding must name
    exactly `subject` (default: the operator's ServiceAccount)."""
    roles = {
        (d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs if "rules" in d
    }
    found = set()
    for binding in (d for d in docs if d["kind"].endswith("Binding")):
        ref = binding["roleRef"]
        scope = binding["metadata"].get("namespace")
        role = roles[(ref["kind"], scope if ref["kind"] == "Role" else None, ref["name"])]
        assert binding["subjects"] == [subject or OPERATOR_ACCOUNT]
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        found.add(Grant(scope, group, resource, verb, tuple(rule.get("resourceNames") or ())))
    return found


def need_of(request: Any) -> Need | None:
    """What an API request needs from RBAC; None for discovery (allowed to every authenticated user)."""
    if request.resource is None or request.resource.plural is None:
        return None
    method = str(request.method.value).upper()
    resource = request.resource.plural + (f"/{request.subresource}" if request.subresource else "")
    if method == "GET":
        verb = "watch" if request.params.get("watch") == "true" else ("get" if request.name else "list")
    else:
        verb = {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete"}[method]
    return Need(request.resource.group or "", resource, verb, request.namespace, request.name)


def needs(cluster: Any) -> set[Need]:
    """What the requests kmock recorded (the test's own left out) needed from RBAC."""
    mine = [r for r in cluster if r.headers.get("User-Agent") != TEST_AGENT]
    return {n for r in mine if (n := need_of(r)) is not None}


def refused(wanted: set[Need], given: set[Grant]) -> set[Need]:
    return {n for n in wanted if not any(g.allows(n) for g in given)}
