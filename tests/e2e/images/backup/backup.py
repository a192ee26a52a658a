"""Stand-in for prodrigestivill/postgres-backup-local: pg_dump on SCHEDULE, keep BACKUP_KEEP_DAYS, health on HTTP.

Environment (the upstream names): POSTGRES_HOST, POSTGRES_PORT, POSTGRES_DB, POSTGRES_USER,
POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, SCHEDULE (@daily, @hourly, @every <n>m or
"0 */<n> * * *"), BACKUP_DIR, BACKUP_KEEP_DAYS, HEALTHCHECK_PORT.
"""

import datetime as dt
import http.server
import os
import subprocess
import threading
import time
from pathlib import Path


def env(name: str, default: str = "") -> str:
    if os.environ.get(f"{name}_FILE"):
        return Path(os.environ[f"{name}_FILE"]).read_text().strip()
    return os.environ.get(name, default)


def next_run(schedule: str, now: dt.datetime) -> dt.datetime:
    if schedule.startswith("@every "):
        return now + dt.timedelta(minutes=int(schedule.split()[1].rstrip("m")))
    hours = {"@daily": 24, "@midnight": 24, "@hourly": 1}.get(schedule)
    if hours is None and schedule.startswith("0 */"):
        hours = int(schedule.split()[1][2:])
    if hours is None:
        raise SystemExit(f"unsupported SCHEDULE {schedule!r}")
    start = now.replace(minute=0, second=0, microsecond=0)
    return start + dt.timedelta(hours=hours - start.hour % hours)


def backup() -> None:
    out = Path(os.environ.get("BACKUP_DIR", "/backups")) / "daily"
    out.mkdir(parents=True, exist_ok=True)
    database = env("POSTGRES_DB")
    target = out / f"{database}-{dt.datetime.now():%Y%m%d-%H%M%S}.sql.gz"
    dump = subprocess.run(
        [
            "pg_dump",
            "-h",
            env("POSTGRES_HOST"),
            "-p",
            env("POSTGRES_PORT", "5432"),
            "-U",
            env("POSTGRES_USER"),
            "-Z",
            "6",
            "-f",
            str(target),
            database,
        ],
        env={**os.environ, "PGPASSWORD": env("POSTGRES_PASSWORD")},
        check=False,
    )
    print(f"backup {target}: exit {dump.returncode}", flush=True)
    keep = dt.timedelta(days=int(env("BACKUP_KEEP_DAYS", "7")))
    for old in out.glob("*.sql.gz"):
        if dt.datetime.now() - dt.datetime.fromtimestamp(old.stat().st_mtime) > keep:
            old.unlink()


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, format: str, *args: object) -> None:
        del format, args


def main() -> None:
    port = int(env("HEALTHCHECK_PORT", "8080"))
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    schedule = env("SCHEDULE", "@daily")
    print(f"backups of {env('POSTGRES_DB')} on {schedule!r}, health on :{port}", flush=True)
    while True:
        wake = next_run(schedule, dt.datetime.now())
        time.sleep(max(1.0, (wake - dt.datetime.now()).total_seconds()))
        backup()


if __name__ == "__main__":
    main()
