"""The blueprint contract in its models: descriptions, docs/blueprint.schema.json and the README's reference tables."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from stacks import schema, spec
from stacks.settings import StackSettings, TlsSettings
from targets import settings_models
from tests.conftest import ROOT, reference_blueprint, write_blueprint

BLUEPRINTS = sorted((ROOT / "blueprints").glob("*.yaml"))
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def _models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = [StackSettings, TlsSettings]
    found += [m for m in vars(spec).values() if isinstance(m, type) and issubclass(m, spec.Strict)]
    for target in schema.built_targets():
        for model in settings_models(target):
            found.append(model)
            for field in model.model_fields.values():
                for inner in getattr(field.annotation, "__args__", (field.annotation,)):
                    args = getattr(inner, "__args__", (inner,))
                    found += [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_field_has_a_description_with_its_default(model: type[BaseModel]) -> None:
    """Each description says what the field is and its default (or that it is required)."""
    for name, field in model.model_fields.items():
        description = field.description or ""
        assert description, f"{model.__name__}.{name} has no description"
        if field.is_required():
            assert "Required." in description, f"{model.__name__}.{name}: say 'Required.'"
            continue
        assert "Default:" in description, f"{model.__name__}.{name}: state the default"
        default = field.default
        if isinstance(default, bool):
            assert f"Default: {str(default).lower()}" in description, f"{model.__name__}.{name}"
        elif isinstance(default, (int, float, str)) and default != "":
            assert f"Default: {default}" in description, f"{model.__name__}.{name}: default {default!r} not stated"


def test_generated_files_match_the_models() -> None:
    """docs/blueprint.schema.json and the README tables: regenerate with `python -m stacks.schema`."""
    assert schema.SCHEMA_PATH.read_text() == schema.render_schema(), "regenerate with python -m stacks.schema"
    readme = schema.README.read_text()
    assert readme == schema.readme_with_tables(readme), "regenerate with python -m stacks.schema"
    assert schema.main(["--check"]) == 0


@pytest.mark.parametrize("path", BLUEPRINTS, ids=lambda p: p.stem)
def test_shipped_blueprint_names_the_schema(path: Path) -> None:
    assert path.read_text().splitlines()[0] == schema.SCHEMA_COMMENT


def _check(*paths: Path | str) -> subprocess.CompletedProcess[str]:
    command = [str(CHECK_JSONSCHEMA), "--schemafile", str(schema.SCHEMA_PATH), *map(str, paths)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_schema_validates_every_shipped_blueprint() -> None:
    result = _check(*BLUEPRINTS)
    assert result.returncode == 0, result.stdout + result.stderr


def _unknown_pool_setting(blueprint: dict[str, Any]) -> None:
    blueprint["pools"]["gpu"].setdefault("targets", {})["docker"] = {"hots": "ssh://ops@gpu-1"}


def _program_validates(blueprint: dict[str, Any]) -> None:
    """The blueprint, then its gpu pool's Docker settings (what the loader validates on the docker target)."""
    validated = spec.Blueprint.model_validate(blueprint)
    settings_models("docker")[1].model_validate(validated.pools["gpu"].targets.get("docker", {}))


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda b: b["services"]["admin-api"].update(replica=2), id="unknown-service-key"),
        pytest.param(lambda b: b.update(servises={}), id="unknown-top-level-key"),
        pytest.param(lambda b: b["services"]["admin-api"]["requests"].update(memory="lots"), id="bad-size"),
        pytest.param(_unknown_pool_setting, id="unknown-docker-pool-setting"),
    ],
)
def test_schema_rejects_what_the_models_reject(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> None:
    """Negative controls: each variant fails the schema, as it fails the program's validation."""
    blueprint = reference_blueprint()
    mutate(blueprint)
    with pytest.raises(ValidationError):
        _program_validates(blueprint)
    result = _check(write_blueprint(tmp_path, blueprint))
    assert result.returncode != 0, result.stdout
