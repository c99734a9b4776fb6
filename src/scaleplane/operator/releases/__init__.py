"""The cluster side of `scaleplane fn`: a Function's versions and its pods' logs, for the CLI.

Rule: used by the CLI only, never by the running operator (wiring/, loop/, records/); reads only
manifests.functions of the operator.

    releasing   `fn deploy | list | rollback | delete`: versions as ConfigMaps, the Function pointed at one
    tailing     `fn logs --cluster`: the logs of a Function's instance pods
"""
