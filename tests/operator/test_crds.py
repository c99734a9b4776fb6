"""The CRDs on disk are what the models generate, are structural, and reject what the models reject."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from scaleplane.operator.manifests import crds, functions, schemas
from scaleplane.scaling import specs

CRD_DIR = Path(__file__).resolve().parents[2] / "operator" / "crds"

VALID_POLICY: dict[str, Any] = {
    "targetRef": {"kind": "Deployment", "name": "worker"},
    "minReplicas": 1,
    "maxReplicas": 10,
    "metrics": [{"name": "queue", "query": "sum(q)", "target": {"type": "AverageValue", "value": 5}}],
    "fallback": {"failureThreshold": 2, "action": "replicas", "replicas": 3},
    "behavior": {
        "scaleDown": {
            "stabilizationWindowSeconds": 30,
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 15}],
        }
    },
}


def _schema(name: str) -> Any:
    crd = yaml.safe_load((CRD_DIR / name).read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]


def test_files_on_disk_match_the_models() -> None:
    assert crds.drift(CRD_DIR) == [], "run `uv run scaleplane operator crds` and commit operator/crds/"


def test_drift_is_detected(tmp_path: Path) -> None:
    crds.write(tmp_path)
    assert crds.drift(tmp_path) == []
    (tmp_path / "functions.yaml").write_text("# edited by hand\n")
    assert crds.drift(tmp_path) == ["functions.yaml"]
    assert crds.main(["--check", str(tmp_path)]) == 1


@pytest.mark.parametrize("name", ["scalingpolicies.yaml", "functions.yaml"])
def test_schemas_are_structural(name: str) -> None:
    spec = _schema(name)
    assert schemas.missing_types(spec) == []
    text = json.dumps(spec)
    for forbidden in ('"$ref"', '"title"', '"anyOf"', '"$defs"', '"const"'):
        assert forbidden not in text, f"{forbidden} in {name}"


def test_policy_crd_names_and_columns() -> None:
    crd = yaml.safe_load((CRD_DIR / "scalingpolicies.yaml").read_text())
    assert crd["spec"]["group"] == "scaleplane.io"
    assert crd["spec"]["names"]["shortNames"] == ["sp"]
    version = crd["spec"]["versions"][0]
    assert version["name"] == "v1alpha1"
    assert version["subresources"] == {"status": {}}
    columns = [c["name"] for c in version["additionalPrinterColumns"]]
    for wanted in ("Target", "Min", "Max", "Current", "Desired", "Last Scale", "Reason"):
        assert wanted in columns


def test_the_valid_policy_is_valid_for_both_the_model_and_the_schema() -> None:
    specs.parse_policy(VALID_POLICY)
    jsonschema.Draft4Validator(_schema("scalingpolicies.yaml")).validate(VALID_POLICY)


def _mutated(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID_POLICY)
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


# Cases the schema itself rejects at admission (the cross-field ones are CEL rules, checked below).
@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["maxReplicas"], 0),
        (["minReplicas"], -1),
        (["metrics"], []),
        (["metrics", 0, "target", "type"], "Utilization"),
        (["metrics", 0, "target", "value"], 0),
        (["metrics", 0, "name"], "9bad name"),
        (["behavior", "scaleDown", "policies", 0, "periodSeconds"], 0),
        (["behavior", "scaleDown", "policies", 0, "periodSeconds"], 1801),
        (["behavior", "scaleDown", "stabilizationWindowSeconds"], 3601),
        (["fallback", "action"], "explode"),
        (["targetRef", "name"], ""),
    ],
)
def test_schema_rejects_what_the_model_rejects(path: list[Any], value: Any) -> None:
    data = _mutated(path, value)
    with pytest.raises(specs.PolicyError):
        specs.parse_policy(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(_schema("scalingpolicies.yaml")).validate(data)


def test_cross_field_rules_are_cel_and_list_map() -> None:
    spec = _schema("scalingpolicies.yaml")
    rules = [r["rule"] for r in spec["x-kubernetes-validations"]]
    assert any("maxReplicas >=" in r for r in rules)
    assert spec["properties"]["metrics"]["x-kubernetes-list-map-keys"] == ["name"]
    fallback_rules = spec["properties"]["fallback"]["x-kubernetes-validations"]
    assert "replicas" in fallback_rules[0]["rule"]


def test_function_schema_accepts_zero_min_and_rejects_bad_ports() -> None:
    schema = _schema("functions.yaml")
    good = {"image": "ghcr.io/acme/fn:1", "minReplicas": 0, "maxReplicas": 5, "group": "billing"}
    functions.parse_function(good)
    jsonschema.Draft4Validator(schema).validate(good)
    for bad in ({**good, "port": 0}, {**good, "group": "Not_A_Label"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.Draft4Validator(schema).validate(bad)
        with pytest.raises(specs.PolicyError):
            functions.parse_function(bad)
    # Neither an image nor a source: a CEL rule on the API server (JSON schema cannot say "one of"
    # without breaking structural schemas), and the operator's own validation.
    with pytest.raises(specs.PolicyError, match="image is required unless source"):
        functions.parse_function({"minReplicas": 0})
    rules = [r["rule"] for r in schema.get("x-kubernetes-validations", [])]
    assert "has(self.image) || has(self.source)" in rules
