"""Lint: every rule fires on a folder made to break it, and none fires on the templates."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from portal.plugins.checks import LintLimits
from portal.plugins.findings import RULES
from portal.plugins.lint import has_errors, lint_plugin
from portal.plugins.report import as_json, as_sarif, as_text
from portal.plugins.templates import TEMPLATES
from tests.plugins.conftest import MakePlugin


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    )


FAKE_AWS = "AKIA" + "ABCDEFGHIJKLMNOP"
KEY_FILE = "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"
Y = "plugin.yaml"
Breaker = Callable[[Path], object]


def _yaml(old: str, new: str) -> Breaker:
    return lambda folder: _edit(folder / Y, old, new)


def _write(name: str, data: bytes) -> Breaker:
    return lambda folder: (folder / name).write_bytes(data)


def _remove(name: str) -> Breaker:
    return lambda folder: (folder / name).unlink()


def _many(folder: Path) -> None:
    for n in range(12):
        (folder / f"n{n}.txt").write_text("x")


# rule id -> (template, what breaks it, file, line: a number, or the plugin.yaml text it is on)
CASES: dict[str, tuple[str, Breaker, str | None, int | str | None]] = {
    "AIC001": ("model-serving", _remove(Y), None, None),
    "AIC002": ("model-serving", _yaml("version: 0.1.0", "version: one"), Y, "version: one"),
    "AIC003": (
        "model-serving",
        _yaml("  license: Apache-2.0  # SPDX identifier\n", ""),
        Y,
        "metadata:",
    ),
    "AIC004": ("model-serving", _yaml("license: Apache-2.0", "license: Apache-3.0"), Y, "license:"),
    "AIC005": ("model-serving", _yaml("endpoint: /v1/", "endpoint: /api/"), Y, "endpoint:"),
    "AIC006": ("model-serving", _remove("src/serve.py"), Y, "entryPoint:"),
    "AIC007": ("model-serving", _yaml("serve.py:serve", "serve.py:answer"), Y, "entryPoint:"),
    "AIC008": ("model-serving", _write("big.bin", b"\1" * 2048), "big.bin", None),
    "AIC009": ("model-serving", _write("big.bin", b"\1" * 9000), None, None),
    "AIC010": ("model-serving", _many, None, None),
    "AIC011": ("model-serving", _write("src/key.pem", KEY_FILE.encode()), "src/key.pem", 2),
    "AIC012": (
        "model-serving",
        _write("src/c.py", f"\n\nK = '{FAKE_AWS}'\n".encode()),
        "src/c.py",
        3,
    ),
    "AIC013": (
        "model-serving",
        _write("requirements.txt", b"a==1\nrequests>=2\n"),
        "requirements.txt",
        2,
    ),
    "AIC014": ("model-serving", _remove("icon.png"), Y, "icon:"),
    "AIC015": ("model-serving", _write("icon.png", b"GIF89a" + bytes(30)), Y, "icon:"),
    "AIC016": ("model-serving", _write("icon.png", _png(64, 64)), Y, "icon:"),
    "AIC017": ("hardware-backend", _remove("conformance/cpu.yaml"), Y, "- cpu"),
    "AIC018": ("model-serving", lambda f: (f / "latest").symlink_to("src"), "latest", None),
    "AIC019": ("model-serving", _write("Readme.md", b"again"), "Readme.md", None),
    "AIC020": ("model-serving", _remove("README.md"), None, None),
    "AIC021": ("model-serving", _yaml("- asia-southeast1", "- mars-north1"), Y, "mars-north1"),
    "AIC022": (
        "model-serving",
        _yaml("permissions: []", "permissions: [hardware.direct]"),
        Y,
        "permissions:",
    ),
    "AIC023": ("model-serving", _yaml("    minMemoryMiB: 2048\n", ""), Y, "hardware:"),
}
LIMITS = LintLimits(max_file_bytes=1500, max_total_bytes=8000, max_files=15)


def test_there_are_at_least_15_rules_and_each_has_a_case() -> None:
    assert len(RULES) >= 15
    assert sorted(rule.id for rule in RULES) == sorted(CASES)
    assert all(rule.title and rule.fix and "\n" not in rule.fix for rule in RULES)


@pytest.mark.parametrize("template", TEMPLATES)
def test_templates_lint_clean(make_plugin: MakePlugin, template: str) -> None:
    assert lint_plugin(make_plugin(template)) == []


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_each_rule_fires_where_it_should(make_plugin: MakePlugin, rule_id: str) -> None:
    template, breaker, file, line = CASES[rule_id]
    folder = make_plugin(template)
    breaker(folder)
    if isinstance(line, str):
        text = (folder / Y).read_text().splitlines()
        line = next(n for n, row in enumerate(text, start=1) if line in row)
    limits = LIMITS if rule_id in ("AIC008", "AIC009", "AIC010") else None
    found = [f for f in lint_plugin(folder, limits=limits) if f.rule.id == rule_id]
    assert found, [f.rule.id for f in lint_plugin(folder, limits=limits)]
    assert (found[0].file, found[0].line) == (file, line), found[0]
    others = {f.rule.id for f in lint_plugin(folder, limits=limits)} - {rule_id}
    assert others <= {"AIC008", "AIC009", "AIC006"}, others  # only knock-on findings


def test_aicignore_keeps_a_secret_out_of_lint(make_plugin: MakePlugin) -> None:
    folder = make_plugin()
    (folder / "local.env").write_text(f"AWS={FAKE_AWS}\n")
    assert [f.rule.id for f in lint_plugin(folder)] == ["AIC012"]
    (folder / ".aicignore").write_text("local.env\n")
    assert lint_plugin(folder) == []


def test_reports_in_text_json_and_sarif(make_plugin: MakePlugin) -> None:
    folder = make_plugin()
    _edit(folder / "plugin.yaml", "endpoint: /v1/models/", "endpoint: /api/models/")
    (folder / "README.md").unlink()
    found = lint_plugin(folder)
    assert has_errors(found)
    text = as_text(folder, found)
    assert (
        "plugin.yaml:17:13: error AIC005 endpoint-outside-v1: the endpoint /api/models/demo-plugin"
        in text
    )
    assert "    fix: Put spec.endpoint under /v1/, such as /v1/models/NAME." in text
    assert text.endswith("1 error, 1 warning\n")
    data = json.loads(as_json(folder, found))
    assert [(f["rule"], f["severity"], f["line"]) for f in data["findings"]] == [
        ("AIC020", "warning", None),
        ("AIC005", "error", 17),
    ]
    sarif = json.loads(as_sarif(folder, found))
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert len(run["tool"]["driver"]["rules"]) == len(RULES)
    located = next(r for r in run["results"] if r["ruleId"] == "AIC005")
    assert located["level"] == "error"
    place = located["locations"][0]["physicalLocation"]
    assert place["artifactLocation"] == {"uri": "plugin.yaml", "uriBaseId": "PLUGINROOT"}
    assert place["region"] == {"startLine": 17, "startColumn": 13}
    assert run["originalUriBaseIds"]["PLUGINROOT"]["uri"] == folder.as_uri() + "/"
    assert not has_errors([f for f in found if f.rule.id == "AIC020"])
