"""ScalingPolicy manifests: unknown keys refused at every level, each problem on its file and line."""

from __future__ import annotations

import pytest

from scaleplane.scaling import manifests

GOOD = """\
apiVersion: scaleplane.io/v1alpha1
kind: ScalingPolicy
metadata: {name: workers}
spec:
  targetRef: {name: workers}
  maxReplicas: 4
  metrics:
    - name: backlog
      query: sum(queue)
      target: {value: 10}
"""


def test_a_good_manifest_reads() -> None:
    (manifest,) = manifests.parse(GOOD, "p.yaml")
    assert (manifest.name, manifest.spec.max_replicas, manifest.line) == ("workers", 4, 1)


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("metadata:", "metadat:", "p.yaml:3: metadat: unknown key (did you mean 'metadata'?"),
        (
            "{name: workers}",
            "{name: workers, nmae: x}",
            "p.yaml:3: metadata.nmae: unknown key (did you mean 'name'?",
        ),
        ("maxReplicas: 4", 'maxReplicas: "40"', "p.yaml:6: spec.maxReplicas: must be an integer, was '40'"),
        (
            "{value: 10}",
            '{value: "0.2"}',
            "p.yaml:10: spec.metrics[0].target.value: must be a number, was '0.2'",
        ),
        (
            "maxReplicas: 4",
            "maxReplicas: 1000000000000000000000000",
            "p.yaml:6: spec.maxReplicas: must be at most",
        ),
        ("  targetRef: {name: workers}\n", "", "p.yaml:4: spec.targetRef: is required"),
        ("spec:\n  targetRef", "spek:\n  targetRef", "p.yaml:4: spek: unknown key (did you mean 'spec'?"),
    ],
)
def test_each_problem_names_file_line_field_and_value(old: str, new: str, problem: str) -> None:
    with pytest.raises(manifests.ManifestError) as caught:
        manifests.parse(GOOD.replace(old, new), "p.yaml")
    assert str(caught.value).startswith(problem), str(caught.value)
    assert "\n" not in str(caught.value)  # one root cause, no cascade


def test_a_missing_spec_says_what_a_spec_needs() -> None:
    with pytest.raises(
        manifests.ManifestError, match=r"p.yaml:1: spec: is required \(targetRef, maxReplicas"
    ):
        manifests.parse(GOOD.split("spec:")[0], "p.yaml")


def test_a_bare_spec_when_allowed() -> None:
    bare = "targetRef: {name: a}\nmaxReplicas: 2\nmetrics: [{name: m, query: q, target: {value: 1}}]\n"
    assert manifests.parse(bare, "b.yaml", bare_spec=True)[0].spec.max_replicas == 2
    with pytest.raises(manifests.ManifestError, match=r"b\.yaml:1: targetRef: unknown key"):
        manifests.parse(bare, "b.yaml")


def test_two_independent_problems_are_one_line_naming_the_first() -> None:
    text = GOOD.replace("maxReplicas: 4", "maxReplicas: 0").replace("{value: 10}", "{value: -1}")
    with pytest.raises(manifests.ManifestError) as caught:
        manifests.parse(text, "p.yaml")
    assert str(caught.value) == (
        "p.yaml:6: spec.maxReplicas: must be >= 1, was 0 (and 1 more problem(s) in this document)"
    )
