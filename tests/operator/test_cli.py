"""`scaleplane operator`: crds --check, and clear errors instead of tracebacks."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from scaleplane.cli import app as cli_app
from scaleplane.cli import operating  # noqa: F401  (registers the commands)

runner = CliRunner()


def test_crds_check_passes_on_the_committed_files_and_fails_on_drift(tmp_path: Path) -> None:
    crd_dir = Path(__file__).resolve().parents[2] / "operator" / "crds"
    assert runner.invoke(cli_app.app, ["operator", "crds", "--check", str(crd_dir)]).exit_code == 0
    assert runner.invoke(cli_app.app, ["operator", "crds", str(tmp_path)]).exit_code == 0
    (tmp_path / "scalingpolicies.yaml").write_text("edited\n")
    result = runner.invoke(cli_app.app, ["operator", "crds", "--check", str(tmp_path)])
    assert result.exit_code == 1 and "scalingpolicies.yaml" in result.output
    (tmp_path / "scalingpolicies.yaml").write_bytes(b"\x84\xff not text")
    result = runner.invoke(cli_app.app, ["operator", "crds", "--check", str(tmp_path)])
    assert result.exit_code == 1 and "scalingpolicies.yaml" in result.output


def test_run_refuses_bad_input_clearly() -> None:
    result = runner.invoke(cli_app.app, ["operator", "run"])
    assert result.exit_code == 2 and "--namespace" in result.output
    result = runner.invoke(cli_app.app, ["operator", "run", "-n", "x"], env={"SCALEPLANE_TICK_SECONDS": "-1"})
    assert result.exit_code == 2 and "SCALEPLANE_TICK_SECONDS" in result.output
    assert "Traceback" not in result.output


def test_run_refuses_a_hook_it_cannot_sign() -> None:
    hooks = '[{"url": "https://hooks.example/in", "secretEnv": "SCALEPLANE_TEST_UNSET_SECRET"}]'
    result = runner.invoke(cli_app.app, ["operator", "run", "-n", "x"], env={"SCALEPLANE_HOOKS": hooks})
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert (
        "SCALEPLANE_HOOKS[0] (https://hooks.example/in): secretEnv SCALEPLANE_TEST_UNSET_SECRET is not set"
        in (" ".join(result.output.split()))
    )


def test_run_without_credentials_says_where_it_looked_and_exits(tmp_path: Path) -> None:
    env = {"KUBECONFIG": str(tmp_path / "nothing"), "HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": None}
    result = runner.invoke(cli_app.app, ["operator", "run", "--all-namespaces"], env=env)
    assert result.exit_code == 2  # an error, not "violations found" (docs/cli.md)
    lines = result.output.strip().splitlines()
    assert lines == [
        "error: no Kubernetes credentials: no service account (KUBERNETES_SERVICE_HOST unset, "
        "/var/run/secrets/kubernetes.io/serviceaccount/token missing); "
        f"no kubeconfig ($KUBECONFIG {tmp_path / 'nothing'} not found)"
    ]


def test_rbac_prints_the_namespaced_mode_and_checks_the_shipped_file(tmp_path: Path) -> None:
    import yaml

    result = runner.invoke(
        cli_app.app, ["operator", "rbac", "-n", "team-a", "-n", "team-b", "--no-functions"]
    )
    assert result.exit_code == 0, result.output
    docs = [d for d in yaml.safe_load_all(result.output) if d]
    roles = sorted(
        (d["kind"], d["metadata"].get("namespace", "")) for d in docs if d["kind"].endswith("Role")
    )
    assert roles == [
        ("ClusterRole", ""),
        ("Role", "scaleplane-system"),
        ("Role", "team-a"),
        ("Role", "team-b"),
    ]
    shipped = Path(__file__).resolve().parents[2] / "operator" / "rbac.yaml"
    assert runner.invoke(cli_app.app, ["operator", "rbac", "--check", str(shipped)]).exit_code == 0
    (tmp_path / "rbac.yaml").write_text("edited\n")
    stale = runner.invoke(cli_app.app, ["operator", "rbac", "--check", str(tmp_path / "rbac.yaml")])
    assert stale.exit_code == 1 and "differs from the generated RBAC" in stale.output
    (tmp_path / "rbac.yaml").write_bytes(b"\x84\xff not text")  # found by the CLI fuzz test
    stale = runner.invoke(cli_app.app, ["operator", "rbac", "--check", str(tmp_path / "rbac.yaml")])
    assert stale.exit_code == 1 and "differs from the generated RBAC" in stale.output
