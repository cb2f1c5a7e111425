"""plugin.yaml: comments survive edits, errors point at line and column, the schema is current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.plugins.document import (
    ManifestError,
    load_manifest,
    parse_manifest,
    read_document,
    update_manifest,
    validate_document,
)
from portal.plugins.manifest import json_schema
from portal.plugins.templates import TEMPLATES, templates_dir
from tests.plugins.conftest import MakePlugin

ROOT = Path(__file__).resolve().parents[2]


def test_an_update_keeps_comments_and_order(make_plugin: MakePlugin) -> None:
    folder = make_plugin()
    path = folder / "plugin.yaml"
    before = path.read_text()
    assert "# semantic version; raise it for every release" in before
    manifest = update_manifest(
        path, {"metadata.version": "1.2.3", "spec.hardware.minMemoryMiB": 4096}
    )
    after = path.read_text()
    assert manifest.metadata.version == "1.2.3"
    assert "version: 1.2.3  # semantic version; raise it for every release" in after
    assert "minMemoryMiB: 4096" in after
    assert after.splitlines()[:2] == before.splitlines()[:2]  # the header comment
    changed = [a for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert len(changed) == 2
    assert load_manifest(folder).manifest.spec.hardware.min_memory_mib == 4096


def test_an_invalid_update_writes_nothing(make_plugin: MakePlugin) -> None:
    path = make_plugin() / "plugin.yaml"
    before = path.read_bytes()
    with pytest.raises(ManifestError, match=r"metadata\.version: must be a semantic version"):
        update_manifest(path, {"metadata.version": "one"})
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.name.startswith(".")) == [".aicignore"]


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_round_trip_byte_for_byte(template: str, tmp_path: Path) -> None:
    path = tmp_path / "plugin.yaml"
    original = (templates_dir() / template / "plugin.yaml").read_bytes()
    path.write_bytes(original)
    update_manifest(path, {})
    assert path.read_bytes() == original


def test_validation_errors_name_file_line_column_in_words(tmp_path: Path) -> None:
    source = (templates_dir() / "model-serving" / "plugin.yaml").read_text()
    source = source.replace("name: example-model", "name: Example_Model")
    source = source.replace("version: 0.1.0", "version: 1.0")
    source = source.replace("type: model", "type: modle")
    source = source.replace("  runtime: python3.12\n", "")
    path = tmp_path / "plugin.yaml"
    path.write_text(source)
    with pytest.raises(ManifestError) as caught:
        validate_document(read_document(path), str(path))
    lines = str(caught.value.message).splitlines()
    assert f"{path}:6:9: metadata.name: must be a DNS label" in lines[0]
    assert lines[1] == f"{path}:7:12: metadata.version: must be text (put it in quotes)"
    assert lines[2].startswith(f"{path}:16:9: spec.type: must be one of 'model', 'connector'")
    assert lines[3] == f"{path}:15:1: spec.runtime: is required but missing"
    problem = caught.value.problems[0]
    assert (problem.line, problem.column, problem.field) == (6, 9, "metadata.name")


def test_yaml_syntax_errors_and_alias_bombs_are_plain_errors() -> None:
    with pytest.raises(ManifestError, match=r"^x.yaml:3:2: is not valid YAML: expected"):
        parse_manifest(b"a: 1\nb: [1\nc: 2\n", "x.yaml")
    with pytest.raises(ManifestError, match=r"^x.yaml:2:1: is not valid YAML: found duplicate key"):
        parse_manifest(b"a: 1\na: 2\n", "x.yaml")
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((c, c) + (c - 1,) * 10)
        for c in range(ord("b"), ord("h"))
    )
    with pytest.raises(ManifestError, match="has more than 10000 values"):
        parse_manifest(bomb, "bomb.yaml")
    with pytest.raises(ManifestError, match="must be a mapping of fields"):
        parse_manifest(b"- a\n", "list.yaml")


def test_paid_pricing_needs_a_price() -> None:
    text = (templates_dir() / "model-serving" / "plugin.yaml").read_bytes()
    with pytest.raises(ManifestError, match=r"spec.pricing: a paid plugin needs a price"):
        parse_manifest(text.replace(b"model: free", b"model: subscription"), "p.yaml")
    paid = text.replace(
        b"model: free", b"model: usage\n    price: 0.002\n    currency: USD\n    unit: request"
    )
    assert parse_manifest(paid, "p.yaml").spec.pricing.currency == "USD"


def test_the_committed_json_schema_is_current() -> None:
    committed = json.loads((ROOT / "resources" / "schemas" / "standardplugin-v1.json").read_text())
    assert committed == json_schema(), "run `make schemas` and commit the result"
    assert committed["properties"]["apiVersion"]["const"] == "AIC-Platform.io/v1"
