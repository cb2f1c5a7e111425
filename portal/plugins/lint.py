"""`plugin lint`: every rule over a plugin folder, findings sorted by file and line."""

from __future__ import annotations

from pathlib import Path

from portal.cancel import CancelToken
from portal.plugins import findings as rules
from portal.plugins.checks import CHECKS, LintContext, LintLimits
from portal.plugins.document import ManifestError, read_document, validate_document
from portal.plugins.files import plugin_tree
from portal.plugins.findings import Finding, Severity
from portal.plugins.manifest import MANIFEST_NAME, StandardPlugin


def lint_plugin(
    root: Path, *, limits: LintLimits | None = None, cancel: CancelToken | None = None
) -> list[Finding]:
    """All findings for the folder; a broken manifest is reported, never raised."""
    tree = plugin_tree(root, cancel=cancel)
    found: list[Finding] = []
    document = None
    manifest: StandardPlugin | None = None
    path = root / MANIFEST_NAME
    if not path.is_file():
        found.append(Finding(rules.MANIFEST_MISSING, rules.MANIFEST_MISSING.title))
    else:
        try:
            document = read_document(path)
            manifest = validate_document(document, MANIFEST_NAME)
        except ManifestError as exc:
            found += [
                Finding(
                    rules.MANIFEST_INVALID,
                    f"{p.field}: {p.message}" if p.field else p.message,
                    MANIFEST_NAME,
                    p.line,
                    p.column,
                )
                for p in exc.problems
            ]
    context = LintContext(tree, manifest, document, limits or LintLimits())
    for check in CHECKS:
        if cancel is not None:
            cancel.raise_if_cancelled()
        found += check(context)
    return sorted(found, key=lambda f: (f.file or "", f.line or 0, f.column or 0, f.rule.id))


def has_errors(found: list[Finding]) -> bool:
    """Whether any finding stops the plugin from being packed and published."""
    return any(finding.rule.severity is Severity.ERROR for finding in found)
