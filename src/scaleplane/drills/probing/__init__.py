"""The data-plane probes and the real clock: what the engine is given to watch a drill with.

- `loops`: `Probe`, a writer committing a numbered sequence and a reader, each in a thread, recording
  every attempt on the drill's clock; the `Store` and `Clock` Protocols it runs on.
- `databases`: `SqlStore`, the probe's store on PostgreSQL (psycopg, the application's DSN).
- `caches`: `RedisStore`, the probe's store on Redis through Sentinel (redis-py).
- `clocks`: `WallClock`, the wall time the probes' threads and the reports share.

Rule: adapters over the engine: these talk to servers and read the clock, and import only the engine's
values (`engine.probes`); the engine never imports them (it is handed a clock and a backend).
"""
