"""What the Docker target deploys short of the ask, said as warnings: no GPU (``gpus: none``), no read replicas."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from preview.runner import PreviewResult, run_program
from tests.conftest import Runner, stack_config, write_blueprint
from tests.docker_checks import containers

GPU_WORKLOADS = {
    "services.dgl-training": "dev-dgl-training",
    "pixel_streaming.unreal.streamer": "dev-unreal-streamer",
}


@pytest.fixture(scope="module")
def no_gpu() -> PreviewResult:
    return run_program("dev", stack_config("dev", docker={"gpus": "none"}))


class TestNoGpuHere:
    @pytest.fixture
    def result(self, no_gpu: PreviewResult) -> PreviewResult:
        return no_gpu

    def test_no_container_requests_a_device(self, result: PreviewResult) -> None:
        for name, box in containers(result).items():
            assert not box.inputs.get("deviceRequests"), name
            assert not box.inputs.get("gpus"), name

    def test_each_gpu_workload_is_named_in_a_warning(self, result: PreviewResult) -> None:
        warned = {w.split(":", 1)[0]: w for w in result.warnings}
        for key in GPU_WORKLOADS:
            assert key in warned, result.warnings
            assert "without a GPU" in warned[key]
            assert "gpu-platform:docker.gpus is none" in warned[key]
            assert "pool 'gpu'" in warned[key]
        gpu_warnings = [w for w in result.warnings if "GPU" in w]
        assert len(gpu_warnings) == len(GPU_WORKLOADS), "one per GPU workload, nothing for CPU ones"

    def test_the_default_requests_real_devices_and_warns_nothing_of_gpus(self, dev_result: PreviewResult) -> None:
        for name in GPU_WORKLOADS.values():
            assert containers(dev_result)[name].inputs["deviceRequests"], name
        # The one warning the shipped dev stack has is its undeclared shared engine (test_docker_engine_checks).
        assert [w.split(":", 2)[1] for w in dev_result.warnings] == ["docker.engines"]

    def test_a_bad_value_names_the_key_and_the_choices(self, run: Runner) -> None:
        with pytest.raises(pulumi.RunError) as raised:
            run("dev", docker={"gpus": "cpu"})
        message = str(raised.value)
        assert "gpu-platform:docker.gpus" in message
        assert "'none'" in message
        assert "'devices'" in message


def _one_database(tmp_path: Path, **database: object) -> str:
    return write_blueprint(
        tmp_path,
        {"name": "unit", "pools": {"general": {"cpu": 8, "memory": "32Gi"}}, "databases": {"db": database}},
    )


class TestReadReplicas:
    def test_blueprint_replicas_are_a_warning_not_silence(self, run: Runner, tmp_path: Path) -> None:
        result = run("dev", blueprint=_one_database(tmp_path, read_replicas=2))
        (warning,) = result.warnings
        assert warning.startswith("databases.db.read_replicas: runs as one Postgres container on Docker")
        assert "2 read replica(s) (from the blueprint)" in warning

    def test_prod_profile_replica_and_ha_are_warned(self, run: Runner, tmp_path: Path) -> None:
        tls = {
            "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
        }
        result = run("dev", environment="prod", target="docker", tls=tls, blueprint=_one_database(tmp_path))
        (warning,) = result.warnings
        assert warning.startswith("databases.db: ")
        assert "1 read replica(s) (from the prod profile)" in warning
        assert "multi-AZ HA" in warning

    def test_no_replicas_no_warning(self, run: Runner, tmp_path: Path) -> None:
        assert run("dev", blueprint=_one_database(tmp_path, read_replicas=0)).warnings == []


@pytest.fixture(scope="module")
def two_cpus() -> PreviewResult:
    return run_program("dev", stack_config("dev", docker={"max_cpus": 2}))


class TestCpuCeiling:
    """``max_cpus``: the engine refuses a CPU limit above its host's CPU count (found by the e2e run on 2 cores)."""

    @pytest.fixture
    def result(self, two_cpus: PreviewResult) -> PreviewResult:
        return two_cpus

    def test_no_container_asks_for_more_cpus_than_the_ceiling(self, result: PreviewResult) -> None:
        for name, box in containers(result).items():
            assert float(box.inputs["cpus"]) <= 2, name

    def test_the_lowered_limit_is_named_in_a_warning_and_the_rest_keep_theirs(
        self, result: PreviewResult, dev_result: PreviewResult
    ) -> None:
        before = {name: float(box.inputs["cpus"]) for name, box in containers(dev_result).items()}
        after = {name: float(box.inputs["cpus"]) for name, box in containers(result).items()}
        lowered = {name for name in before if before[name] != after[name]}
        assert lowered == {name for name, cpus in before.items() if cpus > 2}
        assert lowered  # the shipped dev stack has a 3-CPU streamer: the ceiling must bite somewhere
        assert any(
            w.startswith("pixel_streaming.unreal.streamer: CPU limit lowered from 3 to 2") for w in result.warnings
        )

    def test_without_the_setting_limits_are_as_asked_and_nothing_warns(self, dev_result: PreviewResult) -> None:
        assert max(float(box.inputs["cpus"]) for box in containers(dev_result).values()) > 2
        assert not any("CPU limit lowered" in w for w in dev_result.warnings)

    def test_a_non_positive_ceiling_is_a_config_error(self) -> None:
        with pytest.raises(pulumi.RunError, match=r"gpu-platform:docker\.max_cpus"):
            run_program("dev", stack_config("dev", docker={"max_cpus": 0}))
