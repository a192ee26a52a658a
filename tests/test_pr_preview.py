"""Pull-request previews: the Markdown comment, the diff against the base branch, the picture, the workflows.

The Markdown is checked for structure and for counts that match the JSON document,
not byte for byte: its wording may change, its facts may not. The diff is checked on
small constructed documents (one rule per test) and end to end on the dev stack.
"""

from __future__ import annotations

import contextlib
import copy
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from preview import graph as graph_module
from preview.__main__ import main as preview_main
from preview.compare import (
    REPLACE_ON,
    STATEFUL_TYPES,
    changed_paths,
    compare,
    forces_replacement,
    load_document,
    render_text,
)
from preview.graph import architecture, render_dot, route_label
from preview.markdown import main as markdown_main
from preview.markdown import render, short_type
from tests.tokens import AWS_ECS_SERVICE, AWS_RDS_INSTANCE, DOCKER_CONTAINER, DOCKER_VOLUME, K8S_PERSISTENT_VOLUME_CLAIM

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
IN_CI = bool(os.environ.get("CI"))


def run_cli(*argv: str) -> tuple[int, str, str]:
    """``python -m preview ...`` in-process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = preview_main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def dev_doc() -> dict[str, Any]:
    code, out, err = run_cli("dev", "--json")
    assert code == 0, err
    return json.loads(out)


def components_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in document["resources"] if not r["custom"]]


def section(markdown: str, title: str) -> str:
    """The text of one ``### title`` section."""
    match = re.search(rf"^### {re.escape(title)}\n(.*?)(?=^### |\Z)", markdown, re.S | re.M)
    assert match, f"no section {title!r}"
    return match.group(1)


def table_rows(text: str, header: str) -> list[list[str]]:
    """Rows of the Markdown table whose header line starts with ``header``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


# --- Markdown -------------------------------------------------------------------------------------------


def test_markdown_has_every_section_and_names_the_stack(dev_doc: dict[str, Any]) -> None:
    text = render(dev_doc)
    assert text.startswith("<!-- gpu-platform offline preview stack=dev -->")
    first = text.split("### ")[0]
    for fact in ("`dev`", "**target** docker", "**environment** dev", "**blueprint** reference"):
        assert fact in first
    titles = re.findall(r"^### (.+)$", text, re.M)
    assert titles == [
        "Monthly cost (estimate)",
        "Architecture",
        "Resources by component",
        "Policy violations",
        "Outputs",
    ]
    assert f"**{len(dev_doc['resources'])} resources**" in first
    assert "[!CAUTION]" not in text  # no --compare, no hazards


def test_markdown_counts_match_the_document(dev_doc: dict[str, Any]) -> None:
    text = render(dev_doc)
    part = section(text, "Resources by component")
    rows = table_rows(part, "| Component |")
    components = components_of(dev_doc)
    assert len(rows) == len(components)
    named = {re.match(r"`([^`]+)`", row[0]).group(1) for row in rows}  # type: ignore[union-attr]
    assert named == {c["name"] for c in components}
    custom = sum(1 for r in dev_doc["resources"] if r["custom"])
    assert sum(int(row[3]) for row in rows) == custom
    by_type = {row[0].strip("`"): int(row[1]) for row in table_rows(part, "| Type |")}
    assert by_type == dev_doc["summary"]["by_type"]
    assert sum(by_type.values()) == dev_doc["summary"]["resources"] == len(dev_doc["resources"])


def test_markdown_outputs_section_lists_every_output(dev_doc: dict[str, Any]) -> None:
    outputs = section(render(dev_doc), "Outputs")
    for key in dev_doc["outputs"]:
        assert f"`{key}`" in outputs or f"<code>{key}</code>" in outputs
    urls = dev_doc["outputs"]["urls"]
    assert all(url in outputs for url in urls.values())


def test_mermaid_shows_components_pools_and_wiring(dev_doc: dict[str, Any]) -> None:
    block = re.search(r"```mermaid\n(.*?)```", render(dev_doc), re.S)
    assert block
    mermaid = block.group(1)
    assert mermaid.startswith("flowchart LR")
    ids = dict(re.findall(r"^\s+(c\d+)\S*?<b>([^<]+)</b>", mermaid, re.M))
    names = {name: node for node, name in ids.items()}
    arch = architecture(dev_doc)
    assert set(names) == {n.name for n in arch.components}  # components only: no pools, no resources
    for pool in arch.pools:
        assert re.search(rf'subgraph pool\d+\["pool {pool}\b', mermaid)
    edges = re.findall(r"^\s+(c\d+) (-->|<-->) (c\d+)$", mermaid, re.M)
    assert len(edges) == len(set(edges)), "edges are deduplicated"
    wired = {(ids[a], ids[b]) for a, _, b in edges}
    # A Service's container depends on the ManagedPostgres's container -> Service -> ManagedPostgres.
    assert {("admin-api", "bem-db"), ("dgl-training", "bem-db"), ("ecm", "bem-db"), ("admin-api", "ecm")} <= wired
    assert "internet" in mermaid
    assert f'|"http /api/"| {names["admin-api"]}' in mermaid


def test_violations_are_grouped_by_enforcement(dev_doc: dict[str, Any]) -> None:
    document = copy.deepcopy(dev_doc)
    urn = document["resources"][0]["urn"]
    document["violations"] = [
        {"policy": "advisory-one", "enforcement": "advisory", "urn": urn, "message": "consider this"},
        {"policy": "must-a", "enforcement": "mandatory", "urn": urn, "message": "fix a"},
        {"policy": "must-b", "enforcement": "mandatory", "urn": "", "message": "fix b"},
    ]
    text = render(document)
    assert "**policies** 2 mandatory, 1 advisory" in text
    part = section(text, "Policy violations")
    mandatory, advisory = part.index("Mandatory (2)"), part.index("Advisory (1)")
    assert mandatory < part.index("must-a") < part.index("must-b") < advisory < part.index("advisory-one")
    assert "No violations." in section(render(dev_doc), "Policy violations")


def test_markdown_renders_a_saved_document(dev_doc: dict[str, Any], tmp_path: Path) -> None:
    saved = tmp_path / "dev.json"
    saved.write_text(json.dumps(dev_doc))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert markdown_main([str(saved)]) == 0
    assert out.getvalue() == render(dev_doc)


def test_short_type_and_route_label() -> None:
    assert short_type(DOCKER_CONTAINER) == "docker:Container"
    assert short_type(AWS_ECS_SERVICE) == "aws:ecs.Service"
    assert route_label("https://app.example.com/api/") == "https /api/"
    assert route_label("grpc://localhost:50051") == "grpc localhost:50051"


# --- compare: constructed documents -----------------------------------------------------------------------


def resource(name: str, token: str, inputs: dict[str, Any], parent: str = "gpu-platform:components:Service") -> dict:
    return {
        "urn": f"urn:pulumi:dev::gpu-platform::{parent}${token}::{name}",
        "type": token,
        "name": name,
        "parent": None,
        "custom": True,
        "provider": None,
        "dependencies": [],
        "protect": False,
        "retain_on_delete": False,
        "inputs": inputs,
    }


def doc(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "stack": "dev", "resources": list(resources), "outputs": {}, "violations": []}


VOLUME = DOCKER_VOLUME
RDS = AWS_RDS_INSTANCE
PVC = K8S_PERSISTENT_VOLUME_CLAIM
CONTAINER = DOCKER_CONTAINER


def test_stateful_replacement_by_an_immutable_input_is_a_hazard() -> None:
    before = doc(resource("db-data", VOLUME, {"name": "dev-db-data", "driver": "local"}))
    after = doc(resource("db-data", VOLUME, {"name": "dev-db-data-2", "driver": "local"}))
    diff = compare(before, after)
    assert [c.ref.name for c in diff.changed] == ["db-data"]
    assert diff.changed[0].keys == ("name",)
    assert diff.changed[0].replaces
    assert [(h.action, h.ref.name) for h in diff.hazards] == [("replace", "db-data")]
    assert "`name`" in diff.hazards[0].reason


def test_rds_immutable_input_replaces_and_mutable_input_does_not() -> None:
    base = resource("db", RDS, {"identifier": "gp-db", "dbName": "app", "backupRetentionPeriod": 7})
    renamed = copy.deepcopy(base)
    renamed["inputs"]["dbName"] = "other"
    retention = copy.deepcopy(base)
    retention["inputs"]["backupRetentionPeriod"] = 30
    replace = compare(doc(base), doc(renamed))
    assert [h.action for h in replace.hazards] == ["replace"]
    assert replace.changed[0].replace_keys == ("dbName",)
    ordinary = compare(doc(base), doc(retention))
    assert ordinary.changed[0].keys == ("backupRetentionPeriod",)
    assert not ordinary.changed[0].replaces
    assert ordinary.hazards == []


def test_pvc_storage_class_and_access_modes_replace_but_a_bigger_size_does_not() -> None:
    spec = {"accessModes": ["ReadWriteOnce"], "storageClassName": "gp3", "resources": {"requests": {"storage": "10Gi"}}}
    base = resource("data", PVC, {"metadata": {"name": "data"}, "spec": spec})
    grown = copy.deepcopy(base)
    grown["inputs"]["spec"]["resources"]["requests"]["storage"] = "20Gi"
    assert compare(doc(base), doc(grown)).hazards == []
    for path, value in (("storageClassName", "io2"), ("accessModes", ["ReadWriteMany"])):
        changed = copy.deepcopy(base)
        changed["inputs"]["spec"][path] = value
        diff = compare(doc(base), doc(changed))
        assert [h.action for h in diff.hazards] == ["replace"], path


def test_removed_stateful_resource_is_a_deletion_and_a_removed_container_is_not_a_hazard() -> None:
    db = resource("db", RDS, {"identifier": "gp-db"})
    db["protect"] = True
    app = resource("app", CONTAINER, {"image": "app:1"})
    keep = resource("keep", CONTAINER, {"image": "keep:1"})
    added = resource("new", CONTAINER, {"image": "new:1"})
    diff = compare(doc(db, app, keep), doc(keep, added))
    assert {r.name for r in diff.removed} == {"db", "app"}
    assert [r.name for r in diff.added] == ["new"]
    assert diff.unchanged == 1
    assert [(h.action, h.ref.name) for h in diff.hazards] == [("delete", "db")]
    assert "protected" in diff.hazards[0].reason


def test_renamed_volume_is_a_replacement_of_the_old_one() -> None:
    old = resource("cache", VOLUME, {"name": "cache"})
    new = resource("cache-v2", VOLUME, {"name": "cache"})
    diff = compare(doc(old), doc(new))
    assert [(h.action, h.ref.name) for h in diff.hazards] == [("replace", "cache")]
    assert "renamed to `cache-v2`" in diff.hazards[0].reason


def test_ordinary_change_of_a_stateless_resource_is_listed_not_flagged() -> None:
    before = doc(resource("app", CONTAINER, {"image": "app:1", "envs": ["A=1", "B=2"]}))
    after = doc(resource("app", CONTAINER, {"image": "app:2", "envs": ["A=1", "B=3"]}))
    diff = compare(before, after)
    assert diff.changed[0].keys == ("envs[1]", "image")
    assert diff.hazards == []
    assert "!!" not in render_text(diff)


def test_changed_paths_and_replacement_rules() -> None:
    assert changed_paths({"a": {"b": 1, "c": [1, 2]}}, {"a": {"b": 2, "c": [1, 2, 3]}, "d": 0}) == ["a.b", "a.c", "d"]
    assert changed_paths({"x": 1}, {"x": 1}) == []
    assert forces_replacement(PVC, "spec.accessModes[0]")
    assert forces_replacement(PVC, "spec.selector.matchLabels.app")
    assert forces_replacement(PVC, "spec")  # the whole spec appeared or vanished
    assert not forces_replacement(PVC, "spec.resources.requests.storage")
    assert forces_replacement(VOLUME, "labels[0].value")  # docker_volume cannot update anything
    assert not forces_replacement(RDS, "dbSubnetGroupName")  # moved in place by the provider
    assert set(REPLACE_ON) == STATEFUL_TYPES


def test_load_document_rejects_what_is_not_a_preview(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="not JSON"):
        load_document(bad)
    bad.write_text(json.dumps({"version": 2, "resources": []}))
    with pytest.raises(ValueError, match="version 2"):
        load_document(bad)


# --- CLI end to end ---------------------------------------------------------------------------------------


def base_of(head: dict[str, Any]) -> dict[str, Any]:
    """The base branch's document: the dev volume had another name, an old volume existed, ui restarted differently."""
    base = copy.deepcopy(head)
    volume = next(r for r in base["resources"] if r["name"] == "bem-db-data")
    volume["inputs"]["name"] = volume["inputs"]["name"] + "-old"
    gone = copy.deepcopy(volume)
    gone["urn"], gone["name"] = gone["urn"].replace("::bem-db-data", "::old-cache"), "old-cache"
    base["resources"].append(gone)
    ui = next(r for r in base["resources"] if r["name"] == "ui" and r["type"] == CONTAINER)
    ui["inputs"]["restart"] = "always-before"
    return base


def test_cli_markdown_compare_flags_stateful_changes_at_the_top(dev_doc: dict[str, Any], tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    base.write_text(json.dumps(base_of(dev_doc)))
    code, out, err = run_cli("dev", "--markdown", "--compare", str(base))
    assert code == 0, err
    caution = out.index("> [!CAUTION]")
    assert caution < out.index("### Changes against") < out.index("### Architecture")
    hazards = [line for line in out.splitlines() if line.startswith("> - **")]
    assert len(hazards) == 2
    assert any("**REPLACE `bem-db-data`**" in line and "`name`" in line for line in hazards)
    assert any("**DELETE `old-cache`**" in line for line in hazards)
    rows = table_rows(section(out, "Changes against the base branch"), "| | Resource |")
    by_name = {row[1].strip("`"): row for row in rows if row[2] == f"`{CONTAINER}`" or row[2] == f"`{VOLUME}`"}
    assert by_name["ui"][0] == "~ update"
    assert "`restart`" in by_name["ui"][3]
    assert "replace" in by_name["bem-db-data"][0]
    assert "delete" in by_name["old-cache"][0]
    assert "**+0** to add · **~2** to change · **-1** to delete" in out


def test_cli_tree_with_compare_puts_the_diff_first(dev_doc: dict[str, Any], tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    base.write_text(json.dumps(base_of(dev_doc)))
    code, out, _ = run_cli("dev", "--compare", str(base))
    assert code == 0
    assert out.index("!! REPLACE stateful bem-db-data") < out.index("Previewing stack dev")
    assert "!! DELETE stateful old-cache" in out


def test_cli_compare_against_itself_has_no_changes(dev_doc: dict[str, Any], tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    base.write_text(json.dumps(dev_doc))
    code, out, _ = run_cli("dev", "--markdown", "--compare", str(base))
    assert code == 0
    assert "No resource changes." in out
    assert "[!CAUTION]" not in out


def test_cli_rejects_bad_combinations_and_files(tmp_path: Path) -> None:
    code, _, err = run_cli("dev", "--json", "--markdown")
    assert code == 1
    assert "--json" in err
    code, _, err = run_cli("dev", "--compare", str(tmp_path / "missing.json"))
    assert code == 1
    assert "missing.json" in err
    code, _, err = run_cli("dev", "--graph", str(tmp_path / "x.pdf"))
    assert code == 1
    assert "unknown format" in err


# --- Graphviz ---------------------------------------------------------------------------------------------


def test_dot_mentions_every_component_and_draws_pools_routes_and_wiring(dev_doc: dict[str, Any]) -> None:
    dot = render_dot(dev_doc)
    assert dot.startswith("digraph architecture {")
    assert dot.rstrip().endswith("}")
    for component in components_of(dev_doc):
        assert component["name"] in dot, component["name"]
    arch = architecture(dev_doc)
    assert dot.count("subgraph cluster_pool_") == len(arch.pools)
    assert "shape=cylinder" in dot
    assert "shape=hexagon" in dot
    assert "cluster_fleet_" in dot
    assert dot.count("internet -> ") == len(dev_doc["outputs"]["urls"])
    for urn in {u for pair in arch.wires for u in pair}:
        assert arch.nodes[urn].name in dot


def test_routes_reach_the_workload_they_name(dev_doc: dict[str, Any]) -> None:
    arch = architecture(dev_doc)
    routes = {r.key: r for r in arch.routes}
    assert routes["kite-empirical"].role == "tools.empirical"  # a fleet's gRPC tool, not just the fleet
    assert arch.nodes[routes["kite-empirical"].target or ""].name == "kite"
    assert arch.nodes[routes["unreal"].target or ""].name == "unreal-signalling"  # /signalling is the child gateway
    placed = {n.name: n.pool for n in arch.components}
    assert placed["dgl-training"] == "gpu"
    assert placed["admin-api"] == "general"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_other_targets_render_every_component(stack: str) -> None:
    code, out, err = run_cli(stack, "--json")
    assert code == 0, err
    document = json.loads(out)
    text, dot = render(document), render_dot(document)
    assert f"**target** {document['targets'][0]}" in text
    for component in components_of(document):
        assert component["name"] in dot
        assert f"`{component['name']}`" in section(text, "Resources by component")
    assert dot.count("internet -> ") == len(document["outputs"]["urls"])


def test_graph_dot_file(tmp_path: Path) -> None:
    target = tmp_path / "arch.dot"
    code, _, err = run_cli("dev", "--graph", str(target))
    assert code == 0, err
    assert target.read_text().startswith("digraph")


def test_graph_svg_file(dev_doc: dict[str, Any], tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        if IN_CI:
            pytest.fail("Graphviz's dot is missing in CI: .ci/run installs graphviz")
        pytest.skip("Graphviz's dot is not installed (apt-get install graphviz)")
    target = tmp_path / "arch.svg"
    code, _, err = run_cli("dev", "--graph", str(target))
    assert code == 0, err
    svg = html.unescape(target.read_text())
    assert "<svg" in svg
    assert target.stat().st_size > 5000
    for component in components_of(dev_doc):
        assert component["name"] in svg


def test_graph_without_graphviz_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_module.shutil, "which", lambda _name: None)
    code, out, err = run_cli("dev", "--graph", str(tmp_path / "arch.png"))
    assert code == 1
    assert out == ""
    assert "Graphviz" in err
    assert "apt-get install graphviz" in err


# --- workflows --------------------------------------------------------------------------------------------


def check_jsonschema() -> str:
    found = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    if found is None:
        if IN_CI:
            pytest.fail("check-jsonschema is missing: it is pinned in requirements-dev.txt")
        pytest.skip("check-jsonschema is not installed (pip install -r requirements-dev.txt)")
    return found


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    argv = [check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(path)]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_workflow_passes_the_github_workflow_schema(name: str) -> None:
    done = validate(WORKFLOWS / name)
    assert done.returncode == 0, done.stdout + done.stderr


def test_broken_workflow_fails_the_schema(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("name: broken\non: pull_request\njobs:\n  test:\n    steps: make test\n")
    done = validate(broken)
    assert done.returncode != 0
    assert "runs-on" in done.stdout or "steps" in done.stdout


def load_workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(workflow: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("name", ["preview.yml", "deploy.yml"])
def test_workflow_is_pinned_minimal_and_its_scripts_parse(name: str) -> None:
    workflow = load_workflow(name)
    assert workflow["permissions"] == {"contents": "read"}
    assert "concurrency" in workflow
    for job_name, job in workflow["jobs"].items():
        assert "permissions" in job, job_name
        assert set(job["permissions"]) <= {"contents", "pull-requests", "id-token"}
    for step in steps(workflow):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+(\.\d+){0,2}", step["uses"]), step["uses"]
        if "run" in step:  # bash syntax of every script, with the ${{ }} expressions stubbed
            script = re.sub(r"\$\{\{.*?\}\}", "EXPR", step["run"])
            done = subprocess.run(["bash", "-n"], input=script, capture_output=True, text=True, check=False)
            assert done.returncode == 0, f"{step.get('name')}: {done.stderr}"


def test_preview_workflow_compares_comments_and_previews_each_stack() -> None:
    workflow = load_workflow("preview.yml")
    assert "pull_request" in workflow["on"]
    uses = [s.get("uses", "") for s in steps(workflow)]
    base = next(s for s in steps(workflow) if s.get("with", {}).get("ref") == "${{ github.base_ref }}")
    assert base["uses"].startswith("actions/checkout@")
    assert base["with"]["path"] != "."
    assert any(u.startswith("marocchino/sticky-pull-request-comment@") for u in uses)
    scripts = "\n".join(s.get("run", "") for s in steps(workflow))
    assert "make test" in scripts
    assert "--compare" in scripts
    assert "--markdown" in scripts
    assert "--json" in scripts
    pulumi = workflow["jobs"]["pulumi"]
    assert {item["stack"] for item in pulumi["strategy"]["matrix"]["include"]} == {"dev", "staging", "prod"}
    gate = pulumi["steps"][0]
    assert gate["id"] == "creds"
    assert "secrets.PULUMI_ACCESS_TOKEN" in json.dumps(gate["env"])
    action = next(s for s in pulumi["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert action["with"]["command"] == "preview"
    assert action["with"]["policyPacks"] == "policy"
    assert action["with"]["policyPackConfigs"] == "policy/config/${{ matrix.stack }}.json"
    assert all("steps.creds.outputs.ready" in s.get("if", "") for s in pulumi["steps"][1:])


def test_deploy_workflow_runs_staging_then_prod_behind_approval() -> None:
    workflow = load_workflow("deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["cancel-in-progress"] is False
    jobs = workflow["jobs"]
    assert jobs["prod"]["needs"] == "staging"
    assert jobs["prod"]["environment"] == "production"
    for stack in ("staging", "prod"):
        action = next(s for s in jobs[stack]["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
        assert action["with"]["command"] == "up"
        assert action["with"]["policyPackConfigs"] == f"policy/config/{stack}.json"
        assert (ROOT / action["with"]["policyPackConfigs"]).is_file()
