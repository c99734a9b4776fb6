"""The Functions dashboard: calls, errors, concurrency, cold starts and instances, per function.

Series: the function gateway's (`scaleplane.functions.instruments`, every series labelled
{namespace, function} and present at 0 as soon as the gateway knows the function) and the loop's for
each function's ScalingPolicy (`scaleplane.control.meters`). A Function's policy is named after it in a
cluster (`operator.manifests.functions`: same namespace, same name) and `fn-<namespace>-<name>` on the
local platform (`functions.authoring.definitions.policy_name`); `of_functions` maps a gateway's function
to either name, so the policy panels show functions' policies and no other.
"""

from __future__ import annotations

from typing import Any

from scaleplane.observability.boards import Board, Query

F = "namespace, function"
ONE = 'namespace=~"$namespace", function=~"$function"'
KNOWN = f"scaleplane_gateway_ready_instances{{{ONE}}}"
# (namespace, policy, function) = 1 for each function the gateway knows, its policy named as in a cluster
# (the function's name, in its namespace) or as on the local platform (`fn-<namespace>-<name>`, in the
# platform's own namespace `local`: that name alone is unique, so that join ignores the namespace).
_AS_POLICY = f'label_replace({KNOWN}, "policy", "${{1}}", "function", "(.+)")'
_AS_LOCAL_POLICY = (
    f'label_replace(label_join({KNOWN}, "policy", "-", "namespace", "function"), "policy", "fn-${{1}}", '
    '"policy", "(.+)")'
)
CLUSTER_POLICIES = f"group by (namespace, policy, function) ({_AS_POLICY})"
LOCAL_POLICIES = f"group by (namespace, policy, function) ({_AS_LOCAL_POLICY})"


def of_functions(series: str) -> str:
    """A loop series of functions' policies only, labelled with the function's namespace and name."""
    on_both = f"on (namespace, policy) group_left (function) ({CLUSTER_POLICIES})"
    cluster = f"max by (namespace, policy) ({series}) * {on_both}"
    local = f"max by (policy) ({series}) * on (policy) group_left (namespace, function) ({LOCAL_POLICIES})"
    return f"({cluster}) or ({local})"


def _rate(series: str, by: str = F, selector: str = ONE) -> str:
    return f"sum by ({by}) (rate({series}{{{selector}}}[$__rate_interval]))"


def _quantile(q: float, histogram: str, window: str = "$__rate_interval") -> str:
    return f"histogram_quantile({q}, sum by ({F}, le) (rate({histogram}_bucket{{{ONE}}}[{window}])))"


def functions() -> dict[str, Any]:
    board = Board(
        "scaleplane-functions",
        "Scaleplane / Functions",
        "Functions behind the gateway: calls and their errors, concurrency, cold starts, and the instances "
        "each function's policy asked for against those the gateway routes to.",
    )
    board.variable("namespace", "Namespace", "label_values(scaleplane_gateway_ready_instances, namespace)")
    board.variable(
        "function",
        "Function",
        'label_values(scaleplane_gateway_ready_instances{namespace=~"$namespace"}, function)',
    )
    board.stat(
        "Calls/s",
        "Calls the gateway answered per second, every status.",
        [Query(f"sum(rate(scaleplane_gateway_requests_total{{{ONE}}}[$__rate_interval]))")],
        unit="reqps",
    )
    board.stat(
        "Failed calls",
        "Failed calls (5xx from the handler, 502, 504, and 429 refusals) over all calls answered; a "
        "handler's 4xx is the caller's error and is not counted.",
        [
            Query(
                f"sum(rate(scaleplane_gateway_errors_total{{{ONE}}}[$__rate_interval]))"
                f" / sum(rate(scaleplane_gateway_requests_total{{{ONE}}}[$__rate_interval]))"
            )
        ],
        unit="percentunit",
    )
    board.stat(
        "Cold starts (range)",
        "Wakes from zero the gateway asked for in the dashboard's time range.",
        [Query(f"sum(increase(scaleplane_gateway_cold_starts_total{{{ONE}}}[$__range]))")],
    )
    board.stat(
        "Instances ready",
        "Instances the gateway routes to, all functions (0 = every function asleep).",
        [Query(f"sum({KNOWN})")],
    )
    board.row("Invocations")
    board.timeseries(
        "Calls by status",
        "Calls answered per second, by function and HTTP status.",
        [
            Query(
                _rate("scaleplane_gateway_requests_total", f"{F}, code"),
                "{{namespace}}/{{function}} {{code}}",
            )
        ],
        unit="reqps",
    )
    board.timeseries(
        "Errors by reason",
        "Failed calls per second: QueueFull (429), TimedOut (504), Unreachable (502), HandlerError (5xx).",
        [
            Query(
                _rate("scaleplane_gateway_errors_total", f"{F}, reason"),
                "{{namespace}}/{{function}} {{reason}}",
            )
        ],
        unit="reqps",
    )
    board.timeseries(
        "Call duration",
        "The whole call as the caller sees it, queueing and cold start included: p50 and p99.",
        [
            Query(_quantile(0.5, "scaleplane_gateway_request_duration_seconds"), "{{function}} p50"),
            Query(_quantile(0.99, "scaleplane_gateway_request_duration_seconds"), "{{function}} p99"),
        ],
        unit="s",
    )
    board.timeseries(
        "Concurrency",
        "Calls in flight at the instances and calls queued at the gateway: their sum is what the "
        "function's policy holds per instance.",
        [
            Query(f"sum by ({F}) (scaleplane_gateway_inflight_requests{{{ONE}}})", "{{function}} in flight"),
            Query(f"sum by ({F}) (scaleplane_gateway_queued_requests{{{ONE}}})", "{{function}} queued"),
        ],
    )
    board.row("Cold starts and instances")
    board.timeseries(
        "Cold starts",
        "Wakes from zero per 5 minutes: the first call found no instance and waited for one.",
        [
            Query(
                f"sum by ({F}) (increase(scaleplane_gateway_cold_starts_total{{{ONE}}}[5m]))",
                "{{namespace}}/{{function}}",
            )
        ],
    )
    board.timeseries(
        "Cold start duration",
        "From the first call queued at zero to an instance ready: p50 and p90 over 30 minutes.",
        [
            Query(_quantile(0.5, "scaleplane_gateway_cold_start_seconds", "30m"), "{{function}} p50"),
            Query(_quantile(0.9, "scaleplane_gateway_cold_start_seconds", "30m"), "{{function}} p90"),
        ],
        unit="s",
    )
    board.timeseries(
        "Instances: ready vs asked",
        "What the function's policy asked for and what its target runs, against the instances the "
        "gateway routes to.",
        [
            Query(of_functions("scaleplane_desired_replicas"), "{{function}} asked"),
            Query(of_functions("scaleplane_current_replicas"), "{{function}} running"),
            Query(f"max by ({F}) ({KNOWN})", "{{function}} routed"),
        ],
    )
    board.timeseries(
        "Concurrency per instance against its target",
        "The policy's concurrency reading and the value it holds per instance (the Function's "
        "`concurrency`).",
        [
            Query(of_functions("scaleplane_metric_value"), "{{function}} reading"),
            Query(of_functions("scaleplane_metric_target"), "{{function}} target"),
        ],
    )
    return board.model()
