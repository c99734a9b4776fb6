"""`scaleplane simulate`: the JSON contract, the report, and clear errors (exit 2, no traceback)."""

from __future__ import annotations

import importlib
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import scaleplane.cli
from scaleplane.cli import app as cli_app

REPO = Path(__file__).resolve().parents[2]
REAL = REPO / "traces" / "azure-llm-conv-2023.csv"
SHARED = Path("/work/shared/traces/azure-llm-conv-2023.csv")
KEYS = {"replica_hours", "slo_violation_minutes", "oracle_replica_hours", "scale_events"}


def run(*args: str) -> tuple[int, str, str]:
    for name in scaleplane.cli.COMMAND_MODULES:  # as `main()` does: every command, so `simulate` is one
        importlib.import_module(f"scaleplane.cli.{name}")
    result = CliRunner().invoke(cli_app.app, ["simulate", *args])
    return result.exit_code, result.stdout, result.stderr


def bursty_request_log(path: Path, seed: int) -> Path:
    """A request log unlike the shipped ones: 40 minutes of quiet with three bursts, token columns."""
    rng = np.random.default_rng(seed)
    rows = ["TIMESTAMP,ContextTokens,GeneratedTokens"]
    for second in range(40 * 60):
        rate = 0.5 + (25.0 if any(b <= second < b + 90 for b in (300, 1200, 1900)) else 0.0)
        for offset in np.sort(rng.uniform(0, 1, rng.poisson(rate))):
            minute, sec = divmod(second + offset, 60)
            rows.append(
                f"2024-03-01 12:{int(minute):02d}:{sec:09.6f},{rng.integers(50, 900)},{rng.integers(5, 300)}"
            )
    path.write_text("\n".join(rows) + "\n")
    return path


def test_json_contract_on_the_real_trace_with_a_baseline() -> None:
    code, out, _ = run("--trace", str(REAL), "--baseline", "hpa", "--json")
    assert code == 0
    result = json.loads(out)  # one object, nothing else on stdout
    assert result.keys() >= KEYS
    assert result["baseline"].keys() >= KEYS
    assert result["baseline"]["name"] == "hpa"
    assert result["oracle_replica_hours"] == result["baseline"]["oracle_replica_hours"]
    assert 0 < result["oracle_replica_hours"] < result["replica_hours"]


@pytest.mark.skipif(not SHARED.exists(), reason="the shared trace folder exists on the team's machines only")
def test_the_shared_trace_gives_the_same_answer_as_the_repository_copy() -> None:
    assert json.loads(run("--trace", str(SHARED), "--json")[1]) | {"trace": ""} == json.loads(
        run("--trace", str(REAL), "--json")[1]
    ) | {"trace": ""}


@pytest.mark.parametrize("baseline", ["hpa", "keda"])
def test_an_unseen_bursty_request_log_works_with_token_weights(tmp_path: Path, baseline: str) -> None:
    log = bursty_request_log(tmp_path / "bursty.csv", seed=7)
    code, out, err = run("--trace", str(log), "--baseline", baseline, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["ticks"] == 160  # ~2400 s of requests in 15 s buckets (the last one nearly full)
    assert result["slo_violation_minutes"] > 0  # bursts of 25/s arriving within a tick cannot be met
    assert result["baseline"]["scale_events"] > 0
    code, out, err = run(
        "--trace", str(log), "--weight", "ContextTokens", "--weight", "GeneratedTokens",
        "--capacity", "150", "--json",
    )  # fmt: skip
    assert code == 0, err
    weighted = json.loads(out)
    assert weighted["unit"] == "ContextTokens+GeneratedTokens/s"
    assert weighted["replica_hours"] > 0


def test_report_writes_markdown_and_a_png(tmp_path: Path) -> None:
    code, out, err = run(
        "--trace", str(REPO / "traces" / "synthetic-flash-crowd.csv"),
        "--policy", str(REPO / "examples" / "forecast.yaml"), "--baseline", "keda",
        "--report", str(tmp_path / "report"),
    )  # fmt: skip
    assert code == 0, err
    text = (tmp_path / "report" / "simulate.md").read_text()
    assert "| forecast |" in text and "| keda |" in text and "simulate.png" in text
    assert (tmp_path / "report" / "simulate.png").read_bytes().startswith(b"\x89PNG")
    assert "replica" in out  # the human table


def test_a_bare_spec_is_accepted_like_a_manifest(tmp_path: Path) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text(
        "targetRef: {name: api}\nmaxReplicas: 50\n"
        "metrics: [{name: rps, query: 'sum(rate(x[1m]))', target: {type: AverageValue, value: 0.2}}]\n"
    )
    code, out, err = run(
        "--trace", str(REPO / "traces" / "synthetic-noisy.csv"), "--policy", str(bare), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["name"] == "bare"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("spec: [unclosed", "not valid YAML"),
        ("- a list", "a ScalingPolicy must be a mapping, was ['a list']"),
        (
            "apiVersion: v1\nkind: ScalingPolicy\nspec: {}\n",
            "p.yaml:1: apiVersion: must be scaleplane.io/v1alpha1, was 'v1'",
        ),
        (
            "apiVersion: scaleplane.io/v1alpha1\nkind: Pod\nspec: {}\n",
            "p.yaml:2: kind: must be ScalingPolicy, was 'Pod'",
        ),
        (
            "targetRef: {name: x}\nmaxReplicas: 0\nmetrics: []\n",
            "p.yaml:2: spec.maxReplicas: must be >= 1, was 0",
        ),
        (
            "targetRef: {name: x}\nmaxReplicas: 3\nmetrics: [{name: m, query: q, target: {value: 1}}]\n"
            "behavior: {scaleDown: {policies: [{type: Pods, value: 1, periodSeconds: 0}]}}\n",
            "spec.behavior.scaleDown.policies[0].periodSeconds: must be 1..1800, was 0",
        ),
    ],
)
def test_bad_policies_fail_with_the_problem_and_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(content)
    code, out, err = run("--trace", str(REPO / "traces" / "synthetic-noisy.csv"), "--policy", str(path))
    assert code == 2
    assert expected in err
    assert "Traceback" not in err + out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--trace", "/nonexistent/t.csv"], "--trace: /nonexistent/t.csv does not exist"),
        (["--trace", "{noisy}", "--policy", "/nope.yaml"], "--policy: /nope.yaml does not exist"),
        (["--trace", "{repo}/traces"], "--trace: cannot read"),
        (["--trace", "{noisy}", "--capacity", "0"], "--capacity: must be a finite number >= 1e-06, was 0.0"),
        (["--trace", "{noisy}", "--signal", "x"], "--signal: expected METRIC=demand|backlog, was 'x'"),
        (["--trace", "{noisy}", "--signal", "demand=cpu"], "--signal: expected"),
        (["--trace", "{noisy}", "--tick", "0.5"], "--tick: must be 1..3600 seconds, was 0.5"),
        (["--trace", "{noisy}", "--min-replicas", "5", "--max-replicas", "2"], "need 0 <= min <= max"),
    ],
)
def test_bad_options_and_files_fail_clearly(args: list[str], expected: str) -> None:
    noisy = REPO / "traces" / "synthetic-noisy.csv"
    code, out, err = run(*(a.format(repo=REPO, noisy=noisy) for a in args))
    assert code == 2
    assert expected in err
    assert "Traceback" not in err + out


def test_a_bad_trace_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("t,demand\n0,1\n15,lots\n")
    code, _, err = run("--trace", str(path))
    assert code == 2
    assert f"{path}:3: column 'demand': must be a number, was 'lots'" in err


def test_the_installed_command_prints_one_json_object() -> None:
    """The console script end to end, as a user (or CI) runs it."""
    script = Path(sys.executable).with_name("scaleplane")
    trace = REPO / "traces" / "synthetic-ramp.csv"
    done = subprocess.run(
        [str(script), "simulate", "--trace", str(trace), "--baseline", "keda", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar when --json
    assert json.loads(done.stdout)["baseline"].keys() >= KEYS


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_long_trace_on_a_terminal_draws_a_progress_bar_on_stderr() -> None:
    import pty

    script = Path(sys.executable).with_name("scaleplane")
    trace = REPO / "traces" / "synthetic-ramp.csv"  # 2400 ticks of 3 s: above the bar's threshold
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command on a terminal
        os.execv(
            str(script),
            [str(script), "simulate", "--trace", str(trace), "--tick", "3"],
        )
    output = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal closes when the child exits
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0
    text = output.decode(errors="replace")
    assert "simulating recommended" in text
    assert "2400 ticks of 3 s" in text


def test_a_queue_metric_without_queueing_is_warned_about_and_unknown_signals_refused() -> None:
    workers = str(REPO / "examples" / "workers-queue-depth.yaml")
    noisy = str(REPO / "traces" / "synthetic-noisy.csv")
    code, out, err = run("--trace", noisy, "--policy", workers, "--no-queueing", "--json")
    assert code == 0
    assert "warning: metric 'queue_depth' reads the queue length, which stays 0 without --queueing" in err
    json.loads(out)  # the warning stays off stdout
    code, _, err = run("--trace", noisy, "--policy", workers, "--queueing", "--json")
    assert code == 0 and "warning" not in err
    code, _, err = run("--trace", noisy, "--policy", workers, "--signal", "nope=demand")
    assert code == 2
    assert "--signal: the policy has no metric nope" in err


@pytest.mark.parametrize("example", sorted((REPO / "examples").glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_policy_simulates(example: Path) -> None:
    code, out, err = run(
        "--trace",
        str(REPO / "traces" / "synthetic-noisy.csv"),
        "--policy",
        str(example),
        "--queueing",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["replica_hours"] > 0


def test_frontier_json_follows_the_contract_and_the_report_plots_it(tmp_path: Path) -> None:
    code, out, err = run(
        "--trace", str(REPO / "traces" / "synthetic-flash-crowd.csv"), "--frontier", "--json",
        "--targets", "0.5,0.65,0.8,0.95", "--jobs", "1", "--report", str(tmp_path / "fr"),
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert set(result["frontier"]) == {"hpa", "keda", "scaleplane", "forecast"}
    for points in result["frontier"].values():
        assert points and all(set(p) == {"target", "replica_hours", "slo_violation_minutes"} for p in points)
        minutes = [p["slo_violation_minutes"] for p in points]
        hours = [p["replica_hours"] for p in points]
        assert minutes == sorted(minutes) and hours == sorted(hours, reverse=True)  # a Pareto front
    at = result["at_hpa_default_slo"]
    assert set(at) == {"slo_violation_minutes", "hpa", "keda", "scaleplane", "forecast", "gap_closed"}
    hpa_default = next(p for p in result["sweep"] if p["family"] == "hpa" and p["target"] == 0.8)
    assert at["slo_violation_minutes"] == hpa_default["slo_violation_minutes"]
    assert result["oracle_replica_hours"] <= at["hpa"] <= hpa_default["replica_hours"]
    assert len(result["sweep"]) == 16
    assert (tmp_path / "fr" / "frontier.png").read_bytes().startswith(b"\x89PNG")
    assert "gap scaleplane closes" in (tmp_path / "fr" / "frontier.md").read_text()
    checked = result["promises"]
    assert set(checked) == {
        "frontier_above", "frontier_at_or_below", "recommended", "recommended_dominates_hpa_default",
    }  # fmt: skip
    recommended = next(p for p in result["sweep"] if p["family"] == "scaleplane" and p["target"] == 0.8)
    assert checked["recommended"] == {
        k: recommended[k] for k in ("target", "replica_hours", "slo_violation_minutes")
    }
    assert checked["recommended_dominates_hpa_default"] == (
        recommended["replica_hours"] <= hpa_default["replica_hours"]
        and recommended["slo_violation_minutes"] <= hpa_default["slo_violation_minutes"]
    )
    assert checked["frontier_at_or_below"] == (checked["frontier_above"] == {"hpa": [], "keda": []})


def test_frontier_says_where_scaleplane_is_above_a_baseline_and_if_it_dominates(tmp_path: Path) -> None:
    """On the noisy trace the frontiers cross and the preset spends less but violates more."""
    trace = str(REPO / "traces" / "synthetic-noisy.csv")
    sweep = ("--trace", trace, "--frontier", "--targets", "0.5,0.65,0.8,0.95", "--jobs", "1")
    code, out, err = run(*sweep, "--json", "--report", str(tmp_path / "fr"))
    assert code == 0, err
    result = json.loads(out)
    checked, front = result["promises"], result["frontier"]
    for baseline, levels in checked["frontier_above"].items():
        for level in levels:  # each level is a breakpoint where the baseline's frontier is cheaper
            assert level in {p["slo_violation_minutes"] for p in front[baseline] + front["scaleplane"]}
            assert hours_at(front["scaleplane"], level) > hours_at(front[baseline], level)
    assert checked["frontier_above"]["hpa"] and not checked["frontier_at_or_below"]
    mine = checked["recommended"]
    default = next(p for p in result["sweep"] if p["family"] == "hpa" and p["target"] == 0.8)
    assert mine["replica_hours"] < default["replica_hours"]
    assert mine["slo_violation_minutes"] > default["slo_violation_minutes"]
    assert checked["recommended_dominates_hpa_default"] is False
    words = (tmp_path / "fr" / "frontier.md").read_text()
    levels = ", ".join(f"{v:g}" for v in checked["frontier_above"]["hpa"])
    assert f"scaleplane's frontier needs more replica-hours than the HPA's at {levels}" in words
    assert "does not Pareto-dominate the HPA default" in words and "it spends less but violates more" in words
    code, out, err = run(*sweep)
    assert code == 0, err
    said = " ".join(out.split())  # rich wraps the sentences at the console's width
    assert f"needs more replica-hours than the HPA's at {levels}" in said
    assert "does not Pareto-dominate the HPA default" in said and "it spends less but violates more" in said


def hours_at(points: list[dict[str, float]], level: float) -> float:
    """A printed frontier read at `level` SLO minutes: linear between its points, its cheapest after."""
    for here, after in itertools.pairwise(points):
        if here["slo_violation_minutes"] <= level < after["slo_violation_minutes"]:
            share = (level - here["slo_violation_minutes"]) / (
                after["slo_violation_minutes"] - here["slo_violation_minutes"]
            )
            return here["replica_hours"] + share * (after["replica_hours"] - here["replica_hours"])
    return points[-1]["replica_hours"]


def test_frontier_reads_every_family_at_the_users_slo_budget(tmp_path: Path) -> None:
    trace = str(REPO / "traces" / "synthetic-noisy.csv")  # 240 ticks of 15 s: 60 minutes
    sweep = ("--trace", trace, "--frontier", "--json", "--targets", "0.5,0.65,0.8,0.95", "--jobs", "1")
    code, out, err = run(*sweep, "--slo-budget", "6", "--report", str(tmp_path / "fr"))
    assert code == 0, err
    result = json.loads(out)
    at = result["at_slo_budget"]
    assert set(at) == {"slo_violation_minutes", "hpa", "keda", "scaleplane", "forecast", "oracle", "cheapest"}
    assert at["slo_violation_minutes"] == 6 and at["oracle"] == result["oracle_replica_hours"]
    for family, points in result["frontier"].items():
        # read off the printed frontier: the last point at or under the budget, interpolated to the next
        under = [p for p in points if p["slo_violation_minutes"] <= 6]
        if not under:
            assert at[family] is None
            continue
        assert at[family] <= under[-1]["replica_hours"] + 1e-3
        over = [p for p in points if p["slo_violation_minutes"] > 6]
        if over:
            assert at[family] >= over[0]["replica_hours"] - 1e-3
    reached = {f: at[f] for f in result["frontier"] if at[f] is not None}
    assert at["cheapest"] == min(reached, key=lambda f: reached[f])
    report = (tmp_path / "fr" / "frontier.md").read_text()
    assert "At your SLO budget of 6 SLO-violation minutes" in report
    assert f"Cheapest there: {at['cheapest']}." in report
    # 10 % of the trace's 60 minutes is the same budget, read the same way
    code, out, err = run(*sweep, "--slo-budget", "10%")
    assert code == 0, err
    assert json.loads(out)["at_slo_budget"] == at
    code, out, err = run(*sweep, "--slo-budget", "0")  # no family gets to zero minutes here
    assert code == 0, err
    assert json.loads(out)["at_slo_budget"]["cheapest"] is None


def test_frontier_refuses_a_bad_slo_budget() -> None:
    trace = str(REPO / "traces" / "synthetic-noisy.csv")
    code, _, err = run("--trace", trace, "--frontier", "--slo-budget", "abc")
    assert code == 2 and "--slo-budget: expected SLO-violation minutes (12)" in err and "'abc'" in err
    code, _, err = run("--trace", trace, "--frontier", "--slo-budget", "-1")
    assert code == 2 and "--slo-budget: must be minutes >= 0, was '-1'" in err
    code, _, err = run("--trace", trace, "--frontier", "--slo-budget", "150%")
    assert code == 2 and "--slo-budget: must be a share of 0% to 100%, was '150%'" in err
    code, _, err = run("--trace", trace, "--slo-budget", "5")
    assert code == 2 and "--slo-budget compares frontiers: add --frontier" in err
    assert "Traceback" not in err


def test_frontier_refuses_bad_targets() -> None:
    trace = str(REPO / "traces" / "synthetic-flash-crowd.csv")
    code, _, err = run("--trace", trace, "--frontier", "--targets", "0.5,abc")
    assert code == 2 and "--targets: expected comma-separated fractions" in err
    code, _, err = run("--trace", trace, "--frontier", "--targets", "0.5,1.5")
    assert code == 2 and "--targets: every target must be in (0, 1]" in err
    code, _, err = run("--trace", trace, "--frontier", "--baseline", "hpa")
    assert code == 2 and "--policy and --baseline do not apply" in err
    code, _, err = run("--trace", trace, "--slo-latency", "0.01")
    assert code == 2 and "--service-time: must be >= 0 and below --slo-latency" in err
