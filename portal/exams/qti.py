"""IMS QTI 2.1 and 3.0 into the exam item model: one item file, an assessment test file, or a
content package (a folder or a zip with imsmanifest.xml).

A package with an assessment test keeps its sections and their `selection` (how many items to
draw); without one, every item of the manifest goes into one section. Items that use something
the portal cannot show or score are listed by file, line and item id, and the import fails
unless `skip_unsupported` leaves them out. Graphic interactions are not supported, so neither is
`areaMapping`, which only they use. Images and other media in items are not imported.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from portal.exams.model import ExamContent, Item, Section
from portal.exams.qti_items import Unsupported, convert_item
from portal.exams.qti_xml import Node, QtiError, parse_xml, shown, unpacked_from
from portal.i18n import _, ngettext
from portal.plugins.safezip import Limits, extract_archive

ZIP_LIMITS = Limits(max_entries=10_000, max_total_bytes=512 * 1024 * 1024)
DEFAULT_DURATION_S = 60 * 60
DEFAULT_PASS_MARK = 0.7
_NOT_ID = re.compile(r"[^A-Za-z0-9_.\-]+")


class UnsupportedQtiError(QtiError):
    """Items use interactions or processing the portal does not support."""

    def __init__(self, found: list[Unsupported]) -> None:
        lines = "\n".join(f"  {u.describe()}" for u in found)
        super().__init__(
            ngettext(
                "{n} thing in the QTI is not supported:\n{lines}\nGive --skip-unsupported to "
                "import the other items.",
                "{n} things in the QTI are not supported:\n{lines}\nGive --skip-unsupported to "
                "import the other items.",
                len(found),
            ).format(n=len(found), lines=lines)
        )
        self.found = found


@dataclass(frozen=True)
class QtiImport:
    """The exam made, and what was left out of it."""

    content: ExamContent
    skipped: list[Unsupported]


@dataclass(frozen=True)
class _Pool:
    id: str
    title: str
    draw: int | None
    files: list[Path]


def import_qti(
    path: Path,
    *,
    skip_unsupported: bool = False,
    exam_id: str | None = None,
    version: str = "1",
    language: str | None = None,
    duration_s: int | None = None,
    pass_mark: float = DEFAULT_PASS_MARK,
    practice: bool = False,
) -> QtiImport:
    """Read the QTI at `path` into an exam; options fill what QTI does not say."""
    if path.is_file() and path.suffix.lower() != ".xml":
        if not zipfile.is_zipfile(path):
            raise QtiError(
                _("{path} is neither a QTI XML file nor a zip content package.").format(path=path)
            )
        with tempfile.TemporaryDirectory(prefix="aic-qti-") as temp:
            folder = Path(temp) / "package"
            extract_archive(path, folder, limits=ZIP_LIMITS)
            with unpacked_from(path, folder):
                return _import_folder(
                    folder,
                    path.stem,
                    skip_unsupported=skip_unsupported,
                    options=(exam_id, version, language, duration_s, pass_mark, practice),
                )
    if path.is_dir():
        return _import_folder(
            path,
            path.name,
            skip_unsupported=skip_unsupported,
            options=(exam_id, version, language, duration_s, pass_mark, practice),
        )
    root = parse_xml(path)
    if root.tag == "assessmentTest":
        title, test_time, pools = _test(root, path, path.parent.resolve())
        name = root.get("identifier") or path.stem
    else:
        title, test_time, pools = None, None, [_Pool("items", "", None, [path])]
        name = root.get("identifier") or path.stem
    return _build(
        pools,
        name,
        title,
        test_time,
        skip_unsupported=skip_unsupported,
        options=(exam_id, version, language, duration_s, pass_mark, practice),
    )


_Options = tuple[str | None, str, str | None, int | None, float, bool]


def _import_folder(
    folder: Path, name: str, *, skip_unsupported: bool, options: _Options
) -> QtiImport:
    manifest = folder / "imsmanifest.xml"
    if not manifest.is_file():
        raise QtiError(
            _("{path} is not a QTI content package: it has no imsmanifest.xml.").format(
                path=shown(folder)
            )
        )
    root = parse_xml(manifest)
    base = folder.resolve()
    tests, items = [], []
    for resource in root.iter("resource"):
        kind = resource.get("type", "")
        href = resource.get("href") or next(
            (f.get("href") for f in resource if f.tag == "file" and f.get("href")), None
        )
        if not href:
            continue
        if "imsqti_test" in kind:
            tests.append(_inside(base, href, manifest))
        elif "imsqti_item" in kind:
            items.append(_inside(base, href, manifest))
    if tests:
        if len(tests) > 1:
            raise QtiError(
                ngettext(
                    "{path} holds {n} assessment test; import one test file at a time.",
                    "{path} holds {n} assessment tests; import one test file at a time.",
                    len(tests),
                ).format(path=shown(manifest), n=len(tests))
            )
        test = parse_xml(tests[0])
        title, test_time, pools = _test(test, tests[0], base)
        name = test.get("identifier") or name
    elif items:
        title, test_time = None, None
        pools = [_Pool("items", "", None, items)]
        name = root.get("identifier") or name
    else:
        raise QtiError(
            _("{path} lists no QTI items or tests (resources of type imsqti_…).").format(
                path=shown(manifest)
            )
        )
    return _build(pools, name, title, test_time, skip_unsupported=skip_unsupported, options=options)


def _test(root: Node, path: Path, base: Path) -> tuple[str | None, int | None, list[_Pool]]:
    """The test's title, time limit and its sections as pools of item files."""
    if root.tag != "assessmentTest":
        raise QtiError(
            _("{path} is not a QTI assessment test (its root element is {tag}).").format(
                path=shown(path), tag=root.tag
            )
        )
    pools: list[_Pool] = []
    for section in root.iter("assessmentSection"):
        refs = [n for n in section if n.tag == "assessmentItemRef"]
        if not refs:
            continue
        selection = next((n for n in section if n.tag == "selection"), None)
        draw = None
        if selection is not None:
            try:
                draw = int(selection.get("select", ""))
            except ValueError:
                raise QtiError(
                    _("{path}, line {line}: selection needs a whole number to select.").format(
                        path=shown(path), line=getattr(selection, "line", 0)
                    )
                ) from None
        pools.append(
            _Pool(
                section.get("identifier", "section"),
                section.get("title", ""),
                draw,
                [_inside(path.parent.resolve(), r.get("href", ""), path, base=base) for r in refs],
            )
        )
    if not pools:
        raise QtiError(_("{path} has no sections with items.").format(path=shown(path)))
    limits = next((n for n in root.iter("timeLimits") if n.get("maxTime")), None)
    seconds = None
    if limits is not None:
        try:
            seconds = int(float(limits.get("maxTime", "")))
        except ValueError:
            seconds = None
    return root.get("title"), seconds, pools


def _inside(folder: Path, href: str, source: Path, *, base: Path | None = None) -> Path:
    """The file `href` names, which must stay inside the package."""
    target = (folder / href).resolve()
    root = base or folder
    if not href or not target.is_relative_to(root):
        raise QtiError(
            _("{path} refers to “{href}”, which is outside the package.").format(
                path=shown(source), href=href
            )
        )
    if not target.is_file():
        raise QtiError(
            _("{path} refers to “{href}”, which is not in the package.").format(
                path=shown(source), href=href
            )
        )
    return target


def _build(
    pools: list[_Pool],
    name: str,
    title: str | None,
    test_time: int | None,
    *,
    skip_unsupported: bool,
    options: _Options,
) -> QtiImport:
    exam_id, version, language, duration_s, pass_mark, practice = options
    skipped: list[Unsupported] = []
    sections: list[tuple[_Pool, list[Item]]] = []
    roots = {f: parse_xml(f) for pool in pools for f in pool.files}
    language = language or _language(roots)
    for pool in pools:
        items = []
        for file in pool.files:
            item, problems = convert_item(roots[file], file, language)
            skipped.extend(problems)
            if item is not None:
                items.append(item)
        sections.append((pool, items))
    if skipped and not skip_unsupported:
        raise UnsupportedQtiError(skipped)
    kept = [(pool, items) for pool, items in sections if items]
    if not kept:
        raise QtiError(_("No item of the QTI could be imported."))
    exam_name = _identifier(exam_id or name)
    try:
        content = ExamContent(
            exam_id=exam_name,
            version=version,
            title={language: title or exam_name},
            languages=[language],
            duration_s=duration_s or test_time or DEFAULT_DURATION_S,
            pass_mark=pass_mark,
            practice=practice,
            sections=[
                Section(
                    id=_identifier(pool.id),
                    title={language: pool.title or pool.id},
                    draw=min(pool.draw, len(items)) if pool.draw else None,
                    items=items,
                )
                for pool, items in kept
            ],
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        raise QtiError(
            _("The QTI does not make a valid exam: {problem}").format(problem=error.get("msg", ""))
        ) from exc
    return QtiImport(content, skipped)


def _language(roots: dict[Path, Node]) -> str:
    """The one language the items declare (xml:lang), English when none does."""
    found = sorted({r.get("lang", "") for r in roots.values()} - {""})
    if len(found) > 1:
        raise QtiError(
            _(
                "The items are in several languages ({languages}); import each language on its "
                "own or give --language."
            ).format(languages=", ".join(found))
        )
    return found[0] if found else "en"


def _identifier(name: str) -> str:
    """A name made into an exam or section id the model accepts."""
    cleaned = _NOT_ID.sub("-", name).strip("-.") or "exam"
    if not (cleaned[0].isalpha() or cleaned[0] == "_"):
        cleaned = "qti-" + cleaned
    return cleaned[:64]
