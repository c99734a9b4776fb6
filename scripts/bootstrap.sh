#!/usr/bin/env bash
# Set up everything scaleplane needs on a fresh Debian machine: uv, the project's virtualenv, and the
# Debian packages of the real servers (Prometheus, Redis, PostgreSQL, and for drills Patroni, etcd,
# Sentinel, pgBackRest). Idempotent: a second run is fast.
# As root it installs the packages itself; otherwise it stops and prints the exact command to run.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[scaleplane setup]\033[0m %s\n' "$*" >&2; }

need_debian_packages() {
  local missing=()
  command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
  # The dashboards' and alerts' tests: the exporters a cluster runs, and Alertmanager (local platform).
  command -v prometheus-postgres-exporter >/dev/null 2>&1 || missing+=(prometheus-postgres-exporter)
  command -v prometheus-redis-exporter >/dev/null 2>&1 || missing+=(prometheus-redis-exporter)
  command -v prometheus-alertmanager >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
  # libfaketime: the operator's fencing test runs one replica with its clock an hour ahead.
  compgen -G "/usr/lib/*/faketime/libfaketime.so.1" >/dev/null || missing+=(faketime)
  # DR drills (scaleplane drill): Patroni with etcd, Redis Sentinel, pgBackRest
  command -v patroni >/dev/null 2>&1 || missing+=(patroni)
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  command -v etcdctl >/dev/null 2>&1 || missing+=(etcd-client)  # the operator-leader-loss runbook
  command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
  command -v pgbackrest >/dev/null 2>&1 || missing+=(pgbackrest)
  printf '%s\n' "${missing[@]}" | sort -u | grep -v '^$' || true
}

missing=$(need_debian_packages)
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(echo $missing)"
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: $(echo $missing)"
    bash -c "$cmd" >/tmp/scaleplane-apt.log 2>&1 || { tail -20 /tmp/scaleplane-apt.log; exit 1; }
  else
    say "missing Debian packages: $(echo $missing). Run as root, then run this again:"
    echo "  sudo bash -c '$cmd'" >&2
    exit 1
  fi
fi

if ! command -v uv >/dev/null 2>&1; then
  say "installing uv (the Python project manager) with pip"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
  # ./run cannot change the caller's PATH: say how to reach uv (and `uv run scaleplane`) afterwards.
  say "uv is $(command -v uv); in your shell: export PATH=\"$(dirname "$(command -v uv)"):\$PATH\""
fi

if [ -d .venv ]; then
  uv sync --frozen --quiet
else
  # First install: compile bytecode once, so the first `scaleplane plan` does not spend ~5 s of CPU
  # compiling the Pulumi SDKs. Not on every sync: uv would recompile all of site-packages each time.
  say "creating the virtualenv (.venv) from uv.lock (about a minute)"
  uv sync --frozen --quiet --compile-bytecode
fi
