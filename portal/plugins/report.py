"""Lint findings as text for people, JSON for scripts and SARIF 2.1.0 for code-scanning tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from portal import __version__
from portal.i18n import _, ngettext
from portal.plugins.findings import RULES, Finding, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
ROOT_ID = "PLUGINROOT"


def as_text(root: Path, found: list[Finding]) -> str:
    """One line per finding (file:line:column, severity, rule, message) and its fix."""
    if not found:
        return _("No problems found in {path}.").format(path=root) + "\n"
    lines = []
    for finding in found:
        where = ":".join(
            str(part) for part in (finding.file, finding.line, finding.column) if part is not None
        )
        rule = finding.rule
        head = f"{where}: " if where else ""
        lines.append(f"{head}{rule.severity.value} {rule.id} {rule.name}: {finding.message}")
        lines.append("    " + _("fix: {fix}").format(fix=rule.fix))
    errors = sum(1 for f in found if f.rule.severity is Severity.ERROR)
    warnings = len(found) - errors
    lines.append(
        ngettext("{n} error", "{n} errors", errors).format(n=errors)
        + ", "
        + ngettext("{n} warning", "{n} warnings", warnings).format(n=warnings)
    )
    return "\n".join(lines) + "\n"


def as_json(root: Path, found: list[Finding]) -> str:
    """The findings as a JSON document with the rule's fix beside each."""
    return json.dumps(
        {
            "root": str(root),
            "findings": [
                {
                    "rule": f.rule.id,
                    "name": f.rule.name,
                    "severity": f.rule.severity.value,
                    "message": f.message,
                    "fix": f.rule.fix,
                    "file": f.file,
                    "line": f.line,
                    "column": f.column,
                }
                for f in found
            ],
        },
        indent=2,
        ensure_ascii=False,
    )


def as_sarif(root: Path, found: list[Finding]) -> str:
    """A SARIF 2.1.0 log with one run; locations are relative to the plugin folder."""
    index = {rule.id: n for n, rule in enumerate(RULES)}
    results = []
    for finding in found:
        result: dict[str, Any] = {
            "ruleId": finding.rule.id,
            "ruleIndex": index[finding.rule.id],
            "level": finding.rule.severity.value,
            "message": {"text": finding.message},
        }
        if finding.file is not None:
            location: dict[str, Any] = {
                "artifactLocation": {"uri": quote(finding.file), "uriBaseId": ROOT_ID}
            }
            if finding.line is not None:
                region = {"startLine": finding.line}
                if finding.column is not None:
                    region["startColumn"] = finding.column
                location["region"] = region
            result["locations"] = [{"physicalLocation": location}]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "aic-portal plugin lint",
                        "version": __version__,
                        "rules": [
                            {
                                "id": rule.id,
                                "name": rule.name,
                                "shortDescription": {"text": rule.title},
                                "help": {"text": rule.fix},
                                "defaultConfiguration": {"level": rule.severity.value},
                            }
                            for rule in RULES
                        ],
                    }
                },
                "originalUriBaseIds": {ROOT_ID: {"uri": root.absolute().as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)
