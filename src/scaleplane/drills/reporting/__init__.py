"""What a drill leaves behind, from a finished `engine.running.DrillResult`.

- `reports`: the JSON object (the `--json` contract), the Markdown report, the history file (JSON Lines).
- `timelines`: the timeline PNG (matplotlib, imported when drawn).

Rule: reads a result and writes files; touches no server and reads no clock (the timestamps are the
result's), and imports only the engine (import-linter checks it).
"""
