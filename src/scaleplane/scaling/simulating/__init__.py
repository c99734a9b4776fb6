"""The offline replay: traces as runs, the simulated target and its FIFO queue, the oracle, the latency
SLO, the presets and the cost-SLO frontiers behind `scaleplane simulate`.

Rule: pure, like all of `scaling` (no I/O, no clock: the CLI opens the files and hands over the lines);
it drives `scaling.deciding.engine` exactly as the operator does, one `decide` per sync.
"""
