"""A planned stack rendered as the manifests it applies (`scaleplane plan --manifests DIR`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scaleplane.cli import app
from scaleplane.cli import plan as plan_commands  # noqa: F401 - importing it registers plan and check
from scaleplane.infra import manifests
from scaleplane.infra import planning as infra_planning
from tests.support import planned_stacks

ROOT = planned_stacks.ROOT


@pytest.fixture(scope="module")
def rendering() -> manifests.Rendering:
    # The shipped operator/ manifests, not the test fixtures: what a user's `pulumi up` applies.
    return manifests.render(infra_planning.plan(ROOT, "k8s-dev").resources)


def test_objects_come_in_apply_order_and_the_operator_is_deployed_as_shipped(
    rendering: manifests.Rendering,
) -> None:
    kinds = [obj["kind"] for obj in rendering.objects]
    assert kinds[0] == "Namespace"
    assert kinds.index("CustomResourceDefinition") < kinds.index("ScalingPolicy")
    assert kinds.index("ClusterRoleBinding") < kinds.index("Deployment") < kinds.index("PodMonitor")
    shipped = yaml.safe_load((ROOT / "operator" / "deployment.yaml").read_text())
    (operator,) = [
        d for d in rendering.of_kind("Deployment") if d["metadata"]["name"] == "scaleplane-operator"
    ]
    assert operator == shipped
    shipped_rbac = [d for d in yaml.safe_load_all((ROOT / "operator" / "rbac.yaml").read_text()) if d]
    assert [d for d in rendering.objects if d["kind"] in {"ClusterRole", "Role"}] == [
        d for d in shipped_rbac if d["kind"] in {"ClusterRole", "Role"}
    ]
    assert {p["metadata"]["name"] for p in rendering.of_kind("ScalingPolicy")} == {"workers", "read-replicas"}
    assert [c["metadata"]["name"] for c in rendering.of_kind("Cluster")] == ["app"]


def test_helm_releases_are_handed_over_as_values_and_generated_secrets_are_withheld(
    rendering: manifests.Rendering,
) -> None:
    charts = {release.chart: release for release in rendering.releases}
    assert set(charts) == {"kube-prometheus-stack", "cloudnative-pg", "redis"}
    assert charts["redis"].values["metrics"]["extraEnvVars"] == [
        {"name": "REDIS_EXPORTER_CHECK_SINGLE_KEYS", "value": "db0=celery"}
    ]
    assert "--repo https://charts.bitnami.com/bitnami --version 20.6.0" in charts["redis"].install_command(
        "v"
    )
    assert rendering.withheld == {"scaleplane-dev-cache-auth": "it holds a generated secret at plan time"}
    assert not rendering.of_kind("Secret")
    assert all("(secret)" not in manifests.to_yaml(obj) for obj in rendering.objects)


def test_plan_manifests_writes_one_file_per_object_and_replaces_its_own_rendering(
    tmp_path: Path, rendering: manifests.Rendering
) -> None:
    out = tmp_path / "k8s-dev"
    out.mkdir()
    (out / manifests.MARKER).write_text("")
    (out / "999-stale.yaml").write_text("{}")  # an earlier rendering's object the stack no longer has
    runner = CliRunner()
    result = runner.invoke(app.app, ["plan", "--stack", "k8s-dev", "--manifests", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("*.yaml"))
    assert [yaml.safe_load(path.read_text()) for path in files] == rendering.objects
    assert files[0].name == "000-namespace-data.yaml"
    values = yaml.safe_load((out / "helm" / "scaleplane-dev-cache.values.yaml").read_text())
    assert values["architecture"] == "replication"
    assert "withheld scaleplane-dev-cache-auth" in result.stdout

    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    result = runner.invoke(app.app, ["plan", "--stack", "k8s-dev", "--manifests", str(foreign)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: --manifests: {foreign} is not empty")
    assert (foreign / "notes.txt").read_text() == "keep me"
