"""Manifest text as the GUI editor handles it: checked without raising, edited keeping comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.plugins.document import ManifestError, check_text, edit_text, read_text, save_text
from tests.plugins.conftest import MakePlugin


def test_check_text_gives_form_values_and_problems_with_lines(make_plugin: MakePlugin) -> None:
    text = (make_plugin() / "plugin.yaml").read_text()
    assert check_text(text, "plugin.yaml").problems == []
    checked = check_text(text.replace("runtime: python3.12", "runtime: perl"), "plugin.yaml")
    assert checked.values is not None and checked.values["spec"]["runtime"] == "perl"
    [problem] = checked.problems
    assert (problem.line, problem.field) == (18, "spec.runtime")
    broken = check_text("a: [\n", "plugin.yaml")
    assert broken.values is None and broken.problems[0].message.startswith("is not valid YAML")


def test_edit_text_keeps_comments_order_and_other_lines(make_plugin: MakePlugin) -> None:
    before = (make_plugin() / "plugin.yaml").read_text()
    after = edit_text(
        before, {"metadata.tags": ["ocr", "vision"], "metadata.icon": None}, "plugin.yaml"
    )
    assert "  tags:\n    - ocr\n    - vision\n" in after
    assert "icon:" not in after
    assert "version: 0.1.0  # semantic version; raise it for every release" in after
    assert after.splitlines()[:2] == before.splitlines()[:2]


def test_save_text_writes_unfinished_manifests_but_not_broken_yaml(tmp_path: Path) -> None:
    path = tmp_path / "plugin.yaml"
    assert read_text(path) is None
    save_text(path, "# unfinished\nkind: StandardPlugin\n")
    assert read_text(path) == "# unfinished\nkind: StandardPlugin\n"
    with pytest.raises(ManifestError, match="is not valid YAML"):
        save_text(path, "kind: [\n")
    assert path.read_text() == "# unfinished\nkind: StandardPlugin\n"
    assert [p.name for p in tmp_path.iterdir()] == ["plugin.yaml"]
