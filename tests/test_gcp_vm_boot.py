"""The VM boot script, run through a real bash: it parses, it reads Secret Manager's multi-line answers, and the
container's arguments survive quoting (values with quotes, ``%`` and ``$`` included)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import yaml

from targets.gcp import vm_boot

BASH = shutil.which("bash")
BOOT = vm_boot.Boot(
    name="cache",
    image="redis:7.4.5-alpine",
    user="999:1000",
    read_only_root=True,
    env={"GF_SERVER_ROOT_URL": "%(protocol)s://%(domain)s/it's $HOME"},
    secrets={"DB_MAIN_PASSWORD": "projects/p/secrets/main-password"},
    volumes=[("data", "/data")],
    args=["--appendonly", "yes"],
    health_command=["redis-cli", "ping"],
)


def bash(script: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    assert BASH is not None
    return subprocess.run([BASH, "-c", script], input=stdin, capture_output=True, text=True, check=False, timeout=30)


def test_scripts_parse() -> None:
    for script in (vm_boot.start_script(BOOT), vm_boot.run_script(BOOT)):
        assert bash(f"bash -n <<'EOF'\n{script}EOF\n").returncode == 0


def test_secret_is_read_from_a_multi_line_answer() -> None:
    """Secret Manager answers pretty-printed JSON with a base64 payload (and a dataCrc32c beside it)."""
    answer = json.dumps(
        {
            "name": "projects/1/secrets/s/versions/3",
            "payload": {"data": base64.b64encode(b"s3cr3t").decode(), "dataCrc32c": "42"},
        },
        indent=2,
    )
    found = bash(f"{vm_boot._json_field('data')} | base64 -d", answer)
    assert found.stdout == "s3cr3t"
    token = bash(vm_boot._json_field("access_token"), '{"access_token":"ya29.x","expires_in":3599}')
    assert token.stdout.strip() == "ya29.x"


def test_container_arguments_survive_the_shell() -> None:
    argv = bash(vm_boot.run_script(BOOT).replace("exec docker", "printf '%s\\n'")).stdout.splitlines()
    assert argv[0] == "run"
    assert f"GF_SERVER_ROOT_URL={BOOT.env['GF_SERVER_ROOT_URL']}" in argv
    assert argv[argv.index("--user") + 1] == "999:1000"
    assert argv[argv.index("--health-cmd") + 1] == "redis-cli ping"
    assert argv[-3:] == ["redis:7.4.5-alpine", "--appendonly", "yes"]
    assert "DB_MAIN_PASSWORD_FILE=/run/secrets/db_main_password" in argv
    assert not any("s3cr3t" in a for a in argv)


def test_cloud_init_is_yaml_with_the_unit_and_scripts() -> None:
    document = yaml.safe_load(vm_boot.cloud_init(BOOT))
    paths = [f["path"] for f in document["write_files"]]
    assert paths == ["/etc/gpu-platform/start.sh", "/etc/gpu-platform/run.sh", "/etc/systemd/system/cache.service"]
    assert document["runcmd"][-1] == ["systemctl", "start", "cache.service"]


def test_secret_files_land_under_their_own_names() -> None:
    """coturn reads -c /run/secrets/turnserver.conf: a secret file keeps its name, with no _FILE variable."""
    boot = vm_boot.Boot(
        "turn",
        "coturn/coturn:4.6.3-alpine",
        "65534:65534",
        True,
        {},
        {},
        [],
        files={"turnserver.conf": "projects/p/secrets/turn-conf"},
    )
    start = vm_boot.start_script(boot)
    assert "secretmanager.googleapis.com/v1/projects/p/secrets/turn-conf/versions/latest:access" in start
    assert start.count("> /run/gp-secrets/turnserver.conf") == 1
    argv = bash(vm_boot.run_script(boot).replace("exec docker", "printf '%s\\n'")).stdout.splitlines()
    assert "/run/gp-secrets:/run/secrets:ro" in argv
    assert not any(a.endswith("_FILE=/run/secrets/turnserver.conf") for a in argv)
