"""The operator's container image, named once, and the grammar of an image reference.

Rule: pure, and imports nothing of scaleplane but its version, so every layer may use it. One image
(operator/Dockerfile) runs the operator, the function gateway, the queue exporter and, by default, a
Function's instances; the shipped manifests (operator/deployment.yaml, operator/gateway.yaml) name the
same reference, and tests/infra/test_operator_image.py fails when a version bump forgets one of them.

The grammar is the one the kubelet pulls by (github.com/distribution/reference):
`[HOST[:PORT]/]PATH[:TAG][@ALGORITHM:HEX]`, the path lowercase. A reference must carry a tag or a
digest here: without one the kubelet pulls `:latest`, which moves under a running operator and soon
no longer matches the CRDs and RBAC the same stack deployed.
"""

from __future__ import annotations

import re

from scaleplane import __version__

REPOSITORY = "ghcr.io/scaleplane/operator"
OPERATOR = f"{REPOSITORY}:{__version__}"

_HOST_COMPONENT = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_HOST = rf"(?:{_HOST_COMPONENT}(?:\.{_HOST_COMPONENT})*|\[[0-9a-fA-F:]+\])"  # a name, IPv4, or [IPv6]
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"^(?P<name>{_NAME})(?::{_TAG})?(?:@{_DIGEST})?$")
_NAME_MAX = 255  # distribution/reference's NameTotalLengthMax


def check(
    text: str, *, pinned: bool = True, example: str = "registry.example.com/scaleplane/operator"
) -> str:
    """`text` if it is a pullable image reference (`pinned`: with a tag or a digest), else a ValueError
    saying the form, with `example` as the repository to show."""
    match = _REFERENCE.match(text)
    if match is None or len(match["name"]) > _NAME_MAX:
        raise ValueError(
            f"must be an image reference like {example}:TAG (lowercase path, then a tag or @sha256:DIGEST)"
        )
    if pinned and match.end("name") == len(text):
        raise ValueError(f"needs a tag or a digest (e.g. {text}:{__version__}), not an implied :latest")
    return text


def repository(reference: str) -> str:
    """The reference without its tag and digest: `ghcr.io/scaleplane/operator` of `...operator:0.1.0`."""
    name = reference.split("@", 1)[0]
    head, colon, tag = name.rpartition(":")
    return head if colon and "/" not in tag else name


def is_operator(reference: str) -> bool:
    """Whether a container runs the operator's image, at any tag or digest (what operator.image replaces)."""
    return repository(reference) == REPOSITORY
