"""How files reach Docker containers with a read-only root, and the target's own pinned images.

The engine refuses any copy into a container whose root filesystem is read-only, and the
provider's ``uploads`` always copy to ``/``; so no hardened container may carry uploads.
Files go through a never-started carrier into stack-named volumes the workload mounts
read-only (``targets/docker/containers.py``). These tests check that contract on the
recorded inputs; ``test_carrier_delivers_on_the_real_engine`` repeats the engine's side
against a real dockerd when one answers.
"""

from __future__ import annotations

import re

import pytest

from components.protocol import SECRETS_DIR
from preview.mocks import SECRET
from preview.runner import PreviewResult
from targets.docker import images
from targets.docker.delivery import CARRIER_LABEL, CONFIG_DIR, FILES_LABEL
from targets.docker.render import RecordedLike, carriers
from tests.conftest import Runner
from tests.docker_checks import CONTAINER, containers, delivered, edge_conf, is_carrier
from tests.tokens import DOCKER_VOLUME

VOLUME = DOCKER_VOLUME


def _labels(box: RecordedLike) -> dict[str, object]:
    return {str(lbl["label"]): lbl["value"] for lbl in box.inputs.get("labels", [])}


class TestNoUploadIntoAReadOnlyRoot:
    def test_no_read_only_container_has_uploads(self, dev_result: PreviewResult) -> None:
        for box in dev_result.of_type(CONTAINER):
            if box.inputs.get("readOnly"):
                assert not box.inputs.get("uploads"), f"{box.name}: the engine refuses a copy into a read-only root"

    def test_every_file_arrives_through_a_carrier(self, dev_result: PreviewResult) -> None:
        served = carriers(dev_result.resources)
        # Postgres, every consumer of it, TURN, signalling and the edge receive files.
        for name in ("dev-bem-db", "dev-admin-api", "dev-unreal-turn", "dev-unreal-signalling", "dev-edge"):
            assert name in served, name
        for name, carrier in served.items():
            inputs = carrier.inputs
            assert inputs["start"] is False, name
            assert inputs["mustRun"] is False, name
            assert inputs["readOnly"] is False, name  # the engine accepts the copy only so
            assert inputs["networkMode"] == "none", name
            assert inputs["capabilities"]["drops"] == ["ALL"], name
            assert inputs["securityOpts"] == ["no-new-privileges:true"], name
            workload = containers(dev_result)[name]
            assert inputs["image"] == workload.inputs["image"], "no extra image to pull"
            assert inputs["user"] == workload.inputs["user"], name

    def test_files_are_owned_by_the_container_user_and_not_world_readable(self, dev_result: PreviewResult) -> None:
        for name, box in containers(dev_result).items():
            uid, _, gid = box.inputs["user"].partition(":")
            for path, upload in delivered(dev_result, name).items():
                assert (upload["owner"], upload["group"]) == (uid, gid or uid), (name, path)
                if path.startswith(SECRETS_DIR + "/"):
                    assert upload["permissions"] == "0400", (name, path)
                    assert upload["content"] == SECRET, (name, path)
                else:
                    assert path.startswith(CONFIG_DIR + "/"), (name, path)
                    assert upload["permissions"] == "0440", (name, path)

    def test_workload_mounts_its_files_read_only_from_stack_named_volumes(self, dev_result: PreviewResult) -> None:
        volumes = {str(v.inputs["name"]): v for v in dev_result.of_type(VOLUME)}
        db = containers(dev_result)["dev-bem-db"]
        mount = next(v for v in db.inputs["volumes"] if v["containerPath"] == SECRETS_DIR)
        assert mount["readOnly"] is True
        assert mount["volumeName"] == "dev-bem-db-secrets"
        store = volumes["dev-bem-db-secrets"]
        assert not store.protect, "regenerated from the program"
        assert not store.retain_on_delete
        # A fixed name: create-before-delete would fail on the name, or remove the live volume.
        assert store.delete_before_replace
        carrier = carriers(dev_result.resources)["dev-bem-db"]
        assert {"volumeName": "dev-bem-db-secrets", "containerPath": SECRETS_DIR} in carrier.inputs["volumes"]

    def test_new_files_replace_the_workload(self, dev_result: PreviewResult) -> None:
        """The workload's label holds the carrier's id: a replaced carrier (new content) replaces it too."""
        for name, carrier in carriers(dev_result.resources).items():
            workload = containers(dev_result)[name]
            assert _labels(workload)[FILES_LABEL], name
            assert carrier.urn in workload.dependencies, name
            assert _labels(carrier)[CARRIER_LABEL] == name

    def test_the_edge_reads_its_config_where_it_is_delivered(self, dev_result: PreviewResult) -> None:
        edge = containers(dev_result)["dev-edge"]
        assert edge.inputs["command"] == ["nginx", "-c", f"{CONFIG_DIR}/nginx.conf", "-g", "daemon off;"]
        assert "grpc_pass" in edge_conf(dev_result)

    def test_prod_edge_key_is_secret_and_certificate_is_config(self, run: Runner) -> None:
        tls = {
            "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            "private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
        }
        result = run("dev", environment="prod", target="docker", tls=tls)
        files = delivered(result, "dev-edge")
        assert files[f"{SECRETS_DIR}/edge_tls_key"]["content"] == SECRET
        assert files[f"{CONFIG_DIR}/tls.crt"]["content"].startswith("-----BEGIN CERTIFICATE-----")
        conf = edge_conf(result)
        assert f"ssl_certificate {CONFIG_DIR}/tls.crt;" in conf
        assert f"ssl_certificate_key {SECRETS_DIR}/edge_tls_key;" in conf

    def test_a_container_without_files_has_no_carrier(self, dev_result: PreviewResult) -> None:
        served = carriers(dev_result.resources)
        assert "dev-ui" not in served
        assert not any(
            v["containerPath"] == SECRETS_DIR for v in containers(dev_result)["dev-ui"].inputs.get("volumes", [])
        )

    def test_carriers_are_not_compose_services(self, dev_result: PreviewResult) -> None:
        from targets.docker.render import compose_documents

        (document,) = compose_documents(dev_result.resources).values()
        assert not [name for name in document["services"] if name.endswith("-files")]
        assert document["services"]["dev-bem-db"]["secrets"] == [
            {"source": "postgres_password", "target": "postgres_password"}
        ]
        assert not [v for v in document["volumes"] if v.endswith(("-secrets", "-config"))]
        assert all(not is_carrier(box) for box in containers(dev_result).values())


# A moving tag: a bare major version, optionally with a variant (``16``, ``16-alpine``).
_MOVING = re.compile(r"^\d+(-[a-z]+[0-9.]*)?$")


@pytest.mark.parametrize("version", ["14", "15", "16", "17"])
def test_target_images_are_pinned(version: str) -> None:
    for reference in (images.postgres(version), images.postgres_backup(version), images.NGINX):
        name, _, tag = reference.rpartition(":")
        assert name, reference
        assert tag not in ("", "latest"), reference
        assert not _MOVING.match(tag), f"{reference} floats: pin a release or build tag"
