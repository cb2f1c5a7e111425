"""plugin.yaml as a round-trip document: comments and order survive, errors point at line:column."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from portal.atomic import write_atomically
from portal.errors import InputError, StorageError
from portal.i18n import _, format_number
from portal.plugins.manifest import MANIFEST_NAME, StandardPlugin

MAX_MANIFEST_BYTES = 256 * 1024
MAX_NODES = 10_000  # an alias bomb expands past this long before it hurts


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a manifest, where it is and what it is, in words."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ManifestError(InputError):
    """A manifest that cannot be used; `problems` says where and why, for the GUI to point at."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class LoadedManifest:
    """A valid manifest with the document it came from, for editing that keeps comments."""

    path: Path
    document: CommentedMap
    manifest: StandardPlugin


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    return yaml


def parse_document(data: bytes, source: str) -> CommentedMap:
    """The YAML mapping in `data`, or a ManifestError naming `source`, line and column."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            [Problem(source, 1, 1, "", _("is larger than {n} bytes").format(n=MAX_MANIFEST_BYTES))]
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError([Problem(source, 1, 1, "", _("is not UTF-8 text"))]) from exc
    try:
        document = _yaml().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or str(exc)
        raise ManifestError(
            [
                Problem(
                    source, line, column, "", _("is not valid YAML: {problem}").format(problem=what)
                )
            ]
        ) from exc
    except YAMLError as exc:
        raise ManifestError(
            [Problem(source, 1, 1, "", _("is not valid YAML: {problem}").format(problem=exc))]
        ) from exc
    if not isinstance(document, CommentedMap):
        raise ManifestError(
            [Problem(source, 1, 1, "", _("must be a mapping of fields such as apiVersion: …"))]
        )
    return document


def read_document(path: Path) -> CommentedMap:
    """The YAML mapping in a manifest file, with its comments."""
    return parse_document(_read(path), str(path))


def read_text(path: Path) -> str | None:
    """A manifest's text for the editor, or None when the folder has no manifest yet."""
    if not path.exists():
        return None
    data = _read(path)
    if len(data) > MAX_MANIFEST_BYTES:
        raise InputError(
            _("The manifest {path} is larger than {n} bytes.").format(
                path=path, n=format_number(MAX_MANIFEST_BYTES)
            )
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(_("The manifest {path} is not UTF-8 text.").format(path=path)) from exc


def _read(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise InputError(
            _("The manifest {path} cannot be read: {problem}").format(
                path=path, problem=exc.strerror or exc
            )
        ) from exc


def validate_document(document: CommentedMap, source: str) -> StandardPlugin:
    """The manifest the document describes, or every problem with its line and column."""
    try:
        return StandardPlugin.model_validate(_plain(document, [MAX_NODES], source))
    except ValidationError as exc:
        problems = [_problem(document, error, source) for error in exc.errors()]
        raise ManifestError(problems) from None


def parse_manifest(data: bytes, source: str) -> StandardPlugin:
    """A manifest from bytes (a package entry, an upload), validated."""
    return validate_document(parse_document(data, source), source)


def load_manifest(folder: Path) -> LoadedManifest:
    """The plugin folder's plugin.yaml, parsed and validated."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise InputError(
            _("{folder} has no {name}; create one with `aic-portal plugin new`.").format(
                folder=folder, name=MANIFEST_NAME
            )
        )
    document = read_document(path)
    return LoadedManifest(path, document, validate_document(document, str(path)))


def update_manifest(path: Path, changes: Mapping[str, object]) -> StandardPlugin:
    """Set fields by dotted name (None removes one), keep every comment, write only if valid."""
    document = read_document(path)
    _apply(document, changes)
    manifest = validate_document(document, str(path))
    _write_atomically(path, _dump(document).encode("utf-8"))
    return manifest


@dataclass(frozen=True)
class TextCheck:
    """An edited manifest text as the editor shows it: values for the form, and every problem."""

    values: dict[str, Any] | None
    """The plain data, or None when the text is not a YAML mapping (the form cannot show it)."""
    problems: list[Problem]


def check_text(text: str, source: str) -> TextCheck:
    """Parse and validate editor text; never raises for what the user typed."""
    try:
        document = parse_document(text.encode("utf-8"), source)
        values = _plain(document, [MAX_NODES], source)
    except ManifestError as exc:
        return TextCheck(None, exc.problems)
    try:
        validate_document(document, source)
    except ManifestError as exc:
        return TextCheck(values, exc.problems)
    return TextCheck(values, [])


def edit_text(text: str, changes: Mapping[str, object], source: str) -> str:
    """The text with fields set by dotted name (None removes one); comments and order stay."""
    document = parse_document(text.encode("utf-8"), source)
    _apply(document, changes)
    return _dump(document)


def save_text(path: Path, text: str) -> None:
    """Write editor text as the manifest; it must be YAML, but may be invalid until finished."""
    data = text.encode("utf-8")
    parse_document(data, str(path))
    _write_atomically(path, data)


def _apply(document: CommentedMap, changes: Mapping[str, object]) -> None:
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        target = document
        for key in parents:
            if not isinstance(target.get(key), CommentedMap):
                target[key] = CommentedMap()
            target = target[key]
        if value is None:
            target.pop(last, None)
        else:
            target[last] = value


def _dump(document: CommentedMap) -> str:
    buffer = io.StringIO()
    _yaml().dump(document, buffer)
    return buffer.getvalue()


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise StorageError(
            _("The manifest {path} cannot be written: {problem}").format(
                path=path, problem=exc.strerror or exc
            )
        ) from exc


def _plain(node: Any, budget: list[int], source: str) -> Any:
    """Plain Python data for pydantic, stopping alias bombs by counting every node visited."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ManifestError(
            [Problem(source, 1, 1, "", _("has more than {n} values").format(n=MAX_NODES))]
        )
    if isinstance(node, dict):
        return {str(key): _plain(value, budget, source) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value, budget, source) for value in node]
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def position(
    document: CommentedMap, path: tuple[int | str, ...], *, at_key: bool = False
) -> tuple[int, int]:
    """The 1-based line and column of a field's value (or key), else of its nearest parent."""
    line, column = 1, 1
    node: Any = document
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            child = node[part]
            value = _scalar(child) and not (at_key and part == path[-1])
            row, col = node.lc.value(part) if value else node.lc.key(part)
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            child = node[part]
            row, col = node.lc.item(part)
        else:
            break
        line, column = row + 1, col + 1
        node = child
    return line, column


def _scalar(value: object) -> bool:
    return not isinstance(value, CommentedMap | CommentedSeq)


def _problem(document: CommentedMap, error: ErrorDetails, source: str) -> Problem:
    path = tuple(error["loc"])
    line, column = position(document, path, at_key=error["type"] == "extra_forbidden")
    field = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")
    return Problem(source, line, column, field, _words(error, path))


def _words(error: ErrorDetails, path: tuple[int | str, ...]) -> str:
    """A pydantic error said plainly, in the user's language."""
    kind = error["type"]
    context = error.get("ctx") or {}
    names = [p for p in path if isinstance(p, str)]
    field = names[-1] if names else ""
    simple = {
        "missing": _("is required but missing"),
        "extra_forbidden": _("is not a known field (check its spelling and indentation)"),
        "string_type": _("must be text (put it in quotes)"),
        "int_type": _("must be a whole number"),
        "int_parsing": _("must be a whole number"),
        "int_from_float": _("must be a whole number"),
        "decimal_type": _("must be a number"),
        "decimal_parsing": _("must be a number"),
        "list_type": _("must be a list"),
        "model_type": _("must be a mapping of fields"),
        "model_attributes_type": _("must be a mapping of fields"),
        "dict_type": _("must be a mapping of fields"),
    }
    if kind in simple:
        return simple[kind]
    if kind in ("literal_error", "enum"):
        return _("must be one of {choices}").format(choices=context.get("expected", ""))
    if kind == "string_pattern_mismatch":
        return _pattern_words(field)
    if kind == "string_too_short":
        return _("must not be empty")
    if kind == "string_too_long":
        return _("must be at most {n} characters").format(n=context.get("max_length", ""))
    if kind == "too_long":
        return _("must list at most {n}").format(n=context.get("max_length", ""))
    if kind == "too_short":
        return _("must list at least {n}").format(n=context.get("min_length", 1))
    if kind in ("greater_than_equal", "greater_than"):
        return _("must be at least {n}").format(n=context.get("ge", context.get("gt", "")))
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    return error["msg"]


def _pattern_words(field: str) -> str:
    words = {
        "name": _(
            "must be a DNS label: lowercase letters, digits and hyphens, at most 63, "
            "starting and ending with a letter or digit"
        ),
        "version": _("must be a semantic version such as 1.2.0 or 2.0.0-beta.1"),
        "license": _("must be an SPDX licence expression such as Apache-2.0 or MIT"),
        "tags": _("must be short lowercase words joined by hyphens, such as computer-vision"),
        "endpoint": _("must be a URL path such as /v1/models/NAME"),
        "entryPoint": _("must be FILE or FILE:FUNCTION, such as src/serve.py:serve"),
        "regions": _("must be a region such as asia-southeast1"),
        "languages": _("must be a language tag such as en or pt-BR"),
        "currency": _("must be a three-letter ISO 4217 code such as USD"),
    }
    return words.get(field, _("has the wrong form"))
