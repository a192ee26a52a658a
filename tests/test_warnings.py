"""Caveats (deployable, but not as asked) reach ``pulumi up`` as warnings and the preview as a section."""

from __future__ import annotations

import dataclasses
import importlib

import pytest

from preview.markdown import render
from preview.report import Report
from stacks.errors import Caveat
from tests.conftest import Runner, shipped


def test_a_target_caveat_is_logged_and_reported(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    docker = importlib.import_module("targets.docker")
    monkeypatch.setattr(
        docker,
        "PLUGIN",
        dataclasses.replace(
            docker.PLUGIN, caveats=lambda path, *_: [Caveat("pools.gpu", f"runs without a GPU ({path})")]
        ),
    )
    result = run("dev")
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("pools.gpu: runs without a GPU (")
    report = Report(result=result, environment="dev", blueprint="reference", targets=["docker"])
    assert report.to_json()["warnings"] == result.warnings
    assert "Warnings:\n    pools.gpu: runs without a GPU" in report.tree()
    assert "> [!WARNING]\n> - pools.gpu: runs without a GPU" in render(report.to_json())


def test_no_caveat_no_warning_section() -> None:
    result = shipped("staging")  # Kubernetes as shipped: nothing deployed short of the ask
    assert result.warnings == []
    report = Report(result=result, environment="staging", blueprint="reference", targets=["kubernetes"])
    assert report.to_json()["warnings"] == []
    assert "Warnings:" not in report.tree()
    assert "[!WARNING]" not in render(report.to_json())
