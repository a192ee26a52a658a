#!/usr/bin/env bash
# The Docker engine for `make e2e`: start dockerd only if none answers, and stop only the one started here.
#
#   tests/e2e/engine.sh start        # starts dockerd unless one answers; prints "engine: started PID"
#   tests/e2e/engine.sh stop [PID]   # stops that dockerd (default: the PID file's), nothing else
#
# Only a PID this script started is ever stopped, and only if it is still a dockerd: an engine
# that was running before `start` (someone else's) is left alone.
set -euo pipefail
STATE=${E2E_STATE:-/tmp/gpu-platform-e2e}
PID_FILE=$STATE/dockerd.pid
LOG=$STATE/dockerd.log
mkdir -p "$STATE"

answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

start() {
  if answers; then
    echo "engine: already running (docker $(docker version --format '{{.Server.Version}}')), not started here"
    return 0
  fi
  command -v dockerd >/dev/null || { echo "engine: dockerd missing (apt-get install docker.io)" >&2; exit 1; }
  dockerd >"$LOG" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 60); do
    if answers; then
      echo "engine: started $(cat "$PID_FILE") (dockerd, log $LOG)"
      return 0
    fi
    kill -0 "$(cat "$PID_FILE")" 2>/dev/null || break
    sleep 1
  done
  echo "engine: dockerd did not answer; last log lines:" >&2
  tail -20 "$LOG" >&2
  # Do not leave the dockerd started here running half-up: stop it (only if it is still ours).
  pid=$(cat "$PID_FILE")
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 15); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  exit 1
}

stop() {
  pid=${1:-$(cat "$PID_FILE" 2>/dev/null || true)}
  if [ -z "$pid" ]; then
    echo "engine: not started here, left running"
    return 0
  fi
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
    kill -TERM "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    echo "engine: stopped dockerd (pid $pid)"
  fi
  if [ "$(cat "$PID_FILE" 2>/dev/null)" = "$pid" ]; then rm -f "$PID_FILE"; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
