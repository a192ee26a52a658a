"""Build a local stand-in for every image the dev stack references, tagged with that reference.

    python -m tests.e2e.images          # builds what is missing or changed (docker's layer cache)

Nothing is pulled: each Dockerfile under ``tests/e2e/images/`` starts FROM the Debian base
``tests/e2e/base.sh`` imports. A reference without a stand-in stops the run with its name,
so a new image in the blueprint cannot slip through untested.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent / "images"
BASE = "gpu-platform-e2e/debian:base-1"
APP = "gpu-platform-e2e/app:1"


@dataclass(frozen=True)
class App:
    """A blueprint image played by the stand-in server: its default command (the image's contract)."""

    command: tuple[str, ...]


# The blueprint's own images (repository without tag) and what each one serves.
APPS: dict[str, App] = {
    "ghcr.io/example/bem-automated-admin": App(("http", "--port", "8000")),
    "ghcr.io/example/bem-cytoscape-ui": App(("http", "--port", "8080")),
    "ghcr.io/example/bem-dgl-training": App(("http", "--port", "8500")),
    "ghcr.io/example/bem-ecm-gateway": App(("http", "--port", "8765", "--websocket")),
    "ghcr.io/example/bem-unreal-streamer": App(("http", "--port", "80")),
    "ghcr.io/example/pixel-streaming-signalling": App(("http", "--port", "8888", "--websocket", "--signalling")),
    "ghcr.io/example/brahminykite-api": App(("http", "--port", "8000")),
    "ghcr.io/example/brahminykite-tools": App(("grpc",)),
}
# Third-party images: repository -> stand-in directory.
THIRD_PARTY = {
    "postgres": "postgres",
    "prodrigestivill/postgres-backup-local": "backup",
    "nginxinc/nginx-unprivileged": "nginx",
    "coturn/coturn": "coturn",
}


def repository(reference: str) -> str:
    name = reference.split("@", 1)[0]
    head, _, tail = name.rpartition(":")
    return head if head and "/" not in tail else name


def _build(tag: str, context: Path | None, dockerfile: str | None = None) -> None:
    command = ["docker", "build", "--quiet", "--build-arg", f"BASE={BASE}", "-t", tag]
    command += [str(context)] if context is not None else ["-"]
    done = subprocess.run(command, input=dockerfile, text=True, capture_output=True, check=False)
    if done.returncode != 0:  # stderr only then: the 28.x CLI warns about the legacy builder on every build
        raise SystemExit(f"images: building {tag} failed:\n{done.stdout}{done.stderr}")


def build(references: list[str]) -> None:
    missing = [r for r in references if repository(r) not in APPS and repository(r) not in THIRD_PARTY]
    if missing:
        raise SystemExit(f"images: no stand-in for {', '.join(missing)} (add one under tests/e2e/images/)")
    started = time.monotonic()
    _build(APP, HERE / "app")
    print(f"images: {APP} ({time.monotonic() - started:.0f}s)", flush=True)
    for reference in references:
        started = time.monotonic()
        app = APPS.get(repository(reference))
        if app is not None:
            service = repository(reference).rsplit("/", 1)[-1]
            _build(
                reference,
                None,
                f"FROM {APP}\nENV STANDIN_SERVICE={service}\nCMD {json.dumps(list(app.command))}\n",
            )
        else:
            _build(reference, HERE / THIRD_PARTY[repository(reference)])
        print(f"images: {reference} ({time.monotonic() - started:.0f}s)", flush=True)


def main() -> None:
    from tests.e2e.stack import desired

    references = desired().references()
    try:  # the backup job's image, even when the dev profile schedules no backups
        from targets.docker import images

        references = sorted({*references, images.postgres_backup("16")})
    except (ImportError, AttributeError, KeyError, TypeError):
        pass
    build(references)


if __name__ == "__main__":
    sys.exit(main())
