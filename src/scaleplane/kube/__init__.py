"""The one Kubernetes API client the loop, the targets and the operator's own writes share.

Rule: this package knows how to reach an API server (find credentials, keep them fresh, speak HTTP,
discover resources) and nothing about policies, scaling or kopf. kopf's handlers keep kopf's own
client; everything else in the process goes through `kube.clients.KubeClient`.
"""
