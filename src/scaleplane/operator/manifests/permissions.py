"""The operator's RBAC, as data: every rule once, with where it applies; both install modes built from it.

    where = "cluster"    cluster-scoped objects kopf needs (CRDs; namespaces when watching all)
    where = "watched"    in every namespace whose ScalingPolicies (and Functions) the operator serves
    where = "operator"   in the operator's own namespace only: its Lease, by name

Modes:
    cluster-wide   one ClusterRole (cluster + watched rules) bound cluster-wide, for `--all-namespaces`
    namespaced     a ClusterRole for the cluster rules only, and one Role + RoleBinding per watched
                   namespace, for `--namespace A --namespace B`
Both get the Lease Role in the operator's namespace: `get`/`update` limited to the Lease's name with
`resourceNames` (Kubernetes cannot limit `create` by name: it is the one verb left unnamed). Function
rights (watching Functions, creating and patching their Deployments, Services and ScalingPolicies) are
there only with `functions=True`, the same switch as SCALEPLANE_FUNCTIONS.

`operator/rbac.yaml` is `manifests("cluster-wide")` with the defaults (a test keeps it in sync);
`scaleplane operator rbac --namespace team-a --namespace team-b` prints the namespaced mode.
tests/e2e/test_operator_rbac.py runs the operator in both modes: every request allowed, every rule used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Where = Literal["cluster", "watched", "operator"]
Mode = Literal["cluster-wide", "namespaced"]
NAME = "scaleplane-operator"
INSTALL_NAMESPACE = "scaleplane-system"  # where operator/deployment.yaml and operator/rbac.yaml install it


@dataclass(frozen=True)
class Rule:
    why: str
    group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    where: Where = "watched"
    functions_only: bool = False
    by_name: bool = False  # limited to the Lease's name (resourceNames)
    all_namespaces_only: bool = False


RULES = (
    Rule(
        "kopf: find the operator's CRDs",
        "apiextensions.k8s.io",
        ("customresourcedefinitions",),
        ("list", "watch"),
        where="cluster",
    ),
    Rule(
        "kopf: find namespaces (all-namespaces mode)",
        "",
        ("namespaces",),
        ("list", "watch"),
        where="cluster",
        all_namespaces_only=True,
    ),
    Rule("ScalingPolicies: watched by kopf", "scaleplane.io", ("scalingpolicies",), ("list", "watch")),
    Rule(
        "ScalingPolicies: status written by the loop",
        "scaleplane.io",
        ("scalingpolicies/status",),
        ("patch",),
    ),
    Rule(
        "Events on scaling, errors and invalid policies (a repeat patches its count)",
        "",
        ("events",),
        ("create", "patch"),
    ),
    Rule(
        "targets: one LIST per namespace and kind reads every target",
        "apps",
        ("deployments", "statefulsets"),
        ("list",),
    ),
    Rule("targets: the /scale write", "apps", ("deployments/scale", "statefulsets/scale"), ("patch",)),
    Rule("targets: CloudNativePG clusters", "postgresql.cnpg.io", ("clusters",), ("list",)),
    Rule("targets: CloudNativePG /scale", "postgresql.cnpg.io", ("clusters/scale",), ("patch",)),
    Rule(
        "RDS replicas: the read Service apps connect to (targets.readendpoints)",
        "",
        ("services",),
        ("create",),
    ),
    Rule(
        "RDS replicas: the read Service's EndpointSlice, kept to the ready replicas",
        "discovery.k8s.io",
        ("endpointslices",),
        ("create", "patch"),
    ),
    Rule(
        "Functions: watched; kopf keeps handler progress in annotations",
        "scaleplane.io",
        ("functions",),
        ("list", "watch", "patch"),
        functions_only=True,
    ),
    Rule("Functions: status", "scaleplane.io", ("functions/status",), ("patch",), functions_only=True),
    Rule("a Function's children", "apps", ("deployments",), ("create", "patch"), functions_only=True),
    Rule("a Function's children", "", ("services",), ("create", "patch"), functions_only=True),
    Rule(
        "a Function's children",
        "scaleplane.io",
        ("scalingpolicies",),
        ("create", "patch"),
        functions_only=True,
    ),
    Rule(
        "the Lease that decides which replica actuates",
        "coordination.k8s.io",
        ("leases",),
        ("get", "update"),
        where="operator",
        by_name=True,
    ),
    Rule(
        "the Lease, created once (create cannot be limited by name)",
        "coordination.k8s.io",
        ("leases",),
        ("create",),
        where="operator",
    ),
)


def rules_for(
    where: Where, *, functions: bool, all_namespaces: bool, lease_name: str
) -> list[dict[str, Any]]:
    chosen = []
    for rule in RULES:
        if rule.where != where or (rule.functions_only and not functions):
            continue
        if rule.all_namespaces_only and not all_namespaces:
            continue
        body: dict[str, Any] = {
            "apiGroups": [rule.group],
            "resources": list(rule.resources),
            "verbs": list(rule.verbs),
        }
        if rule.by_name:
            body["resourceNames"] = [lease_name]
        chosen.append(body)
    return chosen


def manifests(
    mode: Mode,
    *,
    watched: tuple[str, ...] = (),
    operator_namespace: str = INSTALL_NAMESPACE,
    lease_name: str = NAME,
    functions: bool = True,
) -> list[dict[str, Any]]:
    """The ServiceAccount, roles and bindings for one install. `watched` is needed in namespaced mode."""
    if mode == "namespaced" and not watched:
        raise ValueError("the namespaced mode needs the watched namespaces (--namespace NAME, repeatable)")
    account = {"kind": "ServiceAccount", "name": NAME, "namespace": operator_namespace}
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": NAME, "namespace": operator_namespace},
        }
    ]
    cluster_wide = mode == "cluster-wide"
    cluster_rules = rules_for(
        "cluster", functions=functions, all_namespaces=cluster_wide, lease_name=lease_name
    )
    watched_rules = rules_for(
        "watched", functions=functions, all_namespaces=cluster_wide, lease_name=lease_name
    )
    if cluster_wide:
        docs += _role(NAME, None, cluster_rules + watched_rules, account)
    else:
        docs += _role(NAME, None, cluster_rules, account)
        for namespace in watched:
            docs += _role(NAME, namespace, watched_rules, account)
    lease_rules = rules_for(
        "operator", functions=functions, all_namespaces=cluster_wide, lease_name=lease_name
    )
    docs += _role(f"{NAME}-lease", operator_namespace, lease_rules, account)
    return docs


def _role(
    name: str, namespace: str | None, rules: list[dict[str, Any]], account: dict[str, str]
) -> list[dict[str, Any]]:
    kind = "Role" if namespace else "ClusterRole"
    meta: dict[str, Any] = {"name": name, **({"namespace": namespace} if namespace else {})}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta, "rules": rules}
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": f"{kind}Binding",
        "metadata": dict(meta),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name},
        "subjects": [dict(account)],
    }
    return [role, binding]


def header(mode: Mode, functions: bool) -> str:
    return (
        "# Generated by `scaleplane operator rbac` from "
        "scaleplane.operator.manifests.permissions: edit that.\n"
        f"# Mode: {mode}, Functions {'on' if functions else 'off'}. Least privilege: every rule is used\n"
        "# and every request allowed (tests/e2e/test_operator_rbac.py). Scaling another kind with a\n"
        "# /scale subresource needs two rules of your own in the watched namespaces:\n"
        "#   - apiGroups: [GROUP]  resources: [PLURAL]        verbs: [get]\n"
        "#   - apiGroups: [GROUP]  resources: [PLURAL/scale]  verbs: [get, patch]\n"
    )


def to_yaml(docs: list[dict[str, Any]], header: str = "") -> str:
    import yaml

    body = "---\n".join(
        yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=110) for doc in docs
    )
    return header + body
