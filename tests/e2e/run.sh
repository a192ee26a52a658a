#!/usr/bin/env bash
# `make e2e`: the dev stack on a real Docker engine, the way a user would see it.
#
# Phases (each printed with its time): Debian packages, the engine (started only if none
# answers, stopped at the end only if started here), the Debian base image, the stand-in
# images, then pytest on tests/e2e (program run, apply, checks, second apply, teardown).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
run_started=$SECONDS

phase() {  # phase NAME COMMAND...: run it and print how long it took
  local name=$1 started=$SECONDS
  shift
  echo "[e2e] $name ..."
  "$@"
  echo "[e2e] $name: $((SECONDS - started))s"
}

packages() {
  local need=()
  command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
  command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
  command -v curl >/dev/null 2>&1 || need+=(curl)  # tests/e2e/test_delivery.py talks to the API socket
  if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

phase "packages (docker.io, mmdebstrap)" packages
started=$(tests/e2e/engine.sh start)
echo "$started"
if [[ $started == "engine: started "* ]]; then
  pid=$(echo "$started" | awk '{print $3}')
  trap 'tests/e2e/engine.sh stop "$pid"' EXIT
fi
phase "base image" tests/e2e/base.sh
phase "stand-in images" "$PY" -m tests.e2e.images
phase "stack: apply, checks, teardown" "$PY" -m pytest -p no:cacheprovider -s -q tests/e2e
echo "[e2e] total: $((SECONDS - run_started))s"
