"""QTI 2.1 and 3.0 import: every supported interaction, packages as folders and zips, what is
not supported, and hostile XML (each refused quickly with a message naming the file)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from portal.cli import main
from portal.exams.model import (
    ChoiceInteraction,
    ExamContent,
    ExtendedTextInteraction,
    GapMatchInteraction,
    InlineChoiceInteraction,
    MatchInteraction,
    OrderInteraction,
    TextEntryInteraction,
)
from portal.exams.qti import QtiError, UnsupportedQtiError, import_qti
from portal.exams.qti_xml import MAX_DEPTH, MAX_XML_BYTES
from portal.plugins.safezip import UnsafeArchiveError

HERE = Path(__file__).parent / "qti"
VERSIONS = ["v21", "v30"]


def _item(version: str, name: str) -> ExamContent:
    return import_qti(HERE / version / f"{name}.xml").content


@pytest.mark.parametrize("version", VERSIONS)
def test_single_choice_with_shuffle_and_a_fixed_choice(version: str) -> None:
    (item,) = _item(version, "choice_single").items()
    interaction = item.interaction
    assert isinstance(interaction, ChoiceInteraction)
    assert (interaction.shuffle, interaction.max_choices) == (True, 1)
    assert [(c.id, c.text["en"], c.fixed) for c in interaction.choices] == [
        ("standard", "StandardPlugin", False),
        ("deployment", "Deployment", False),
        ("none", "None of these", True),
    ]
    assert item.prompt == {"en": "Every plugin manifest declares one kind.\nWhich kind is it?"}
    assert item.scoring is not None
    assert (item.scoring.template, item.scoring.correct) == ("match_correct", ["standard"])


@pytest.mark.parametrize("version", VERSIONS)
def test_multiple_choice_with_a_mapping(version: str) -> None:
    (item,) = _item(version, "choice_multiple").items()
    assert isinstance(item.interaction, ChoiceInteraction)
    assert (item.interaction.max_choices, item.interaction.min_choices) == (0, 1)
    assert item.scoring is not None and item.scoring.mapping is not None
    assert item.scoring.template == "map_response"
    assert item.scoring.mapping.entries == {"model": 1.0, "connector": 1.0, "web-page": -1.0}
    assert (item.scoring.mapping.lower_bound, item.scoring.mapping.upper_bound) == (0.0, 2.0)
    assert item.points == 2.0


@pytest.mark.parametrize("version", VERSIONS)
def test_text_entry_keeps_its_place_in_the_sentence(version: str) -> None:
    (item,) = _item(version, "text_entry").items()
    assert isinstance(item.interaction, TextEntryInteraction)
    assert item.interaction.expected_length == 10
    assert item.prompt["en"] == "Plugin packages are signed with _____ inside a DSSE envelope."
    assert item.scoring is not None and item.scoring.mapping is not None
    assert item.scoring.mapping.case_sensitive is False


@pytest.mark.parametrize("version", VERSIONS)
def test_extended_text_is_scored_by_hand(version: str) -> None:
    (item,) = _item(version, "extended_text").items()
    assert isinstance(item.interaction, ExtendedTextInteraction)
    assert item.interaction.expected_lines == 5
    assert item.scoring is not None and item.scoring.template == "manual"


@pytest.mark.parametrize("version", VERSIONS)
def test_order(version: str) -> None:
    (item,) = _item(version, "order").items()
    assert isinstance(item.interaction, OrderInteraction) and item.interaction.shuffle
    assert [c.id for c in item.interaction.choices] == ["sign", "lint", "pack"]
    assert item.scoring is not None and item.scoring.correct == ["lint", "pack", "sign"]


@pytest.mark.parametrize("version", VERSIONS)
def test_match_with_directed_pairs(version: str) -> None:
    (item,) = _item(version, "match").items()
    interaction = item.interaction
    assert isinstance(interaction, MatchInteraction)
    assert [c.id for c in interaction.sources] == ["cuda", "loihi"]
    assert [(c.id, c.match_max) for c in interaction.targets] == [("tensor", 0), ("lif", 0)]
    assert interaction.max_associations == 2
    assert item.scoring is not None and item.scoring.correct == ["cuda tensor", "loihi lif"]


@pytest.mark.parametrize("version", VERSIONS)
def test_inline_choice_splits_its_sentence(version: str) -> None:
    (item,) = _item(version, "inline_choice").items()
    interaction = item.interaction
    assert isinstance(interaction, InlineChoiceInteraction)
    assert interaction.before == {"en": "An exam package reveals nothing without the"}
    assert interaction.after == {"en": "given by the proctor."}
    assert [c.id for c in interaction.choices] == ["code", "name"]
    assert item.prompt == {"en": "Choose the right words."}


@pytest.mark.parametrize("version", VERSIONS)
def test_gap_match_marks_its_gaps(version: str) -> None:
    (item,) = _item(version, "gap_match").items()
    interaction = item.interaction
    assert isinstance(interaction, GapMatchInteraction)
    assert interaction.text == {"en": "Offline work goes to the {{G1}}; each item has an {{G2}}."}
    assert interaction.gaps == ["G1", "G2"]
    assert [g.id for g in interaction.gap_texts] == ["outbox", "key", "cache"]
    assert item.scoring is not None and item.scoring.correct == ["outbox G1", "key G2"]


@pytest.mark.parametrize("version", VERSIONS)
def test_a_package_folder_keeps_the_tests_sections_and_draws(version: str) -> None:
    content = import_qti(HERE / version).content

    assert content.exam_id == f"qti{version[1:]}-sample"
    assert content.duration_s == 1800
    assert [(s.id, s.draw, len(s.items)) for s in content.sections] == [
        ("choices", 2, 3),
        ("the-rest", None, 5),
    ]
    kinds = {item.interaction.kind for item in content.items()}
    assert len(kinds) == 7


def test_both_versions_make_the_same_items() -> None:
    old, new = import_qti(HERE / "v21").content, import_qti(HERE / "v30").content
    assert old.items() == new.items()


def test_a_zip_package_is_read_like_its_folder(tmp_path: Path) -> None:
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted((HERE / "v30").iterdir()):
            out.write(file, file.name)

    assert import_qti(archive).content == import_qti(HERE / "v30").content


def test_a_zip_that_climbs_out_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("imsmanifest.xml", "<manifest/>")
        out.writestr("../escape.xml", "<x/>")

    with pytest.raises(UnsafeArchiveError, match="climbs out"):
        import_qti(archive)
    assert not (tmp_path / "escape.xml").exists()


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("imsmanifest.xml", "<manifest/>")
        out.writestr("item.xml", b"\0" * (8 << 20))  # 8 MiB of zeros in a few kB

    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        import_qti(archive)


def test_a_manifest_pointing_outside_the_package_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    shutil.copytree(HERE / "v21", folder)
    manifest = folder / "imsmanifest.xml"
    manifest.write_text(
        manifest.read_text().replace('href="test.xml">', 'href="../../../etc/hostname">')
    )

    with pytest.raises(QtiError, match="outside the package"):
        import_qti(folder)


def _zip(archive: Path, folder: Path, *, leave_out: str = "", manifest: str | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as out:
        for file in sorted(folder.iterdir()):
            if file.name == "imsmanifest.xml" and manifest is not None:
                out.writestr(file.name, manifest)
            elif file.name != leave_out:
                out.write(file, file.name)
    return archive


def test_errors_in_a_zip_name_the_zip_and_its_entry_not_a_temporary_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = _zip(tmp_path / "no-manifest.zip", HERE / "v21", leave_out="imsmanifest.xml")
    with pytest.raises(QtiError) as caught:
        import_qti(bare)
    assert caught.value.message == (
        f"{bare} is not a QTI content package: it has no imsmanifest.xml."
    )

    manifest = (HERE / "v21" / "imsmanifest.xml").read_text()
    climbing = _zip(
        tmp_path / "climbing.zip",
        HERE / "v21",
        manifest=manifest.replace('href="test.xml">', 'href="../../../etc/hostname">'),
    )
    with pytest.raises(QtiError) as caught:
        import_qti(climbing)
    assert caught.value.message == (
        f"imsmanifest.xml in {climbing} refers to “../../../etc/hostname”, which is outside "
        "the package."
    )

    broken = _zip(
        tmp_path / "broken.zip",
        HERE / "v21",
        manifest=manifest.replace("</resources>", "</resources"),
    )
    with pytest.raises(QtiError, match=rf"^imsmanifest\.xml in {broken}, line \d+: not well"):
        import_qti(broken)

    code = main(["--data-dir", str(tmp_path / "d"), "exam", "import-qti", str(climbing),
                 "-o", str(tmp_path / "exam.json")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1 and f"Error: imsmanifest.xml in {climbing} refers to" in err
    assert "aic-qti-" not in err


def test_what_a_zip_leaves_out_is_named_by_the_zip(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    folder.mkdir()
    shutil.copy(HERE / "unsupported" / "hotspot.xml", folder / "hotspot.xml")
    shutil.copy(HERE / "v21" / "choice_single.xml", folder / "choice_single.xml")
    (folder / "imsmanifest.xml").write_text(
        '<manifest xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"><resources>'
        '<resource identifier="h" type="imsqti_item_xmlv2p1" href="hotspot.xml"/>'
        '<resource identifier="c" type="imsqti_item_xmlv2p1" href="choice_single.xml"/>'
        "</resources></manifest>"
    )
    archive = _zip(tmp_path / "mixed.zip", folder)

    result = import_qti(archive, skip_unsupported=True)
    assert {u.where for u in result.skipped} == {f"hotspot.xml in {archive}"}
    assert result.skipped[0].describe().startswith(f"hotspot.xml in {archive}, line ")


@pytest.mark.parametrize(
    ("name", "line", "what"),
    [
        ("hotspot.xml", 10, "selectPointInteraction is not supported"),
        ("hotspot.xml", 4, "areaMapping applies only to graphic interactions"),
        ("hotspot.xml", 15, "template map_response_point is not supported"),
        ("hotspot.xml", 12, "<object>: images and other media"),
        ("hotspot_v30.xml", 10, "selectPointInteraction is not supported"),
        ("hotspot_v30.xml", 4, "areaMapping applies only"),
        ("custom_processing.xml", 13, "custom response processing rules"),
    ],
)
def test_unsupported_things_are_listed_by_item_and_line(name: str, line: int, what: str) -> None:
    with pytest.raises(UnsupportedQtiError) as caught:
        import_qti(HERE / "unsupported" / name)
    found = [(u.line, u.what) for u in caught.value.found]
    assert any(at == line and what in text for at, text in found), found
    assert f"line {line}: item " in caught.value.message


def test_skip_unsupported_leaves_those_items_out(tmp_path: Path) -> None:
    folder = tmp_path / "pkg"
    shutil.copytree(HERE / "v21", folder)
    shutil.copy(HERE / "unsupported" / "hotspot.xml", folder)
    manifest = folder / "imsmanifest.xml"
    manifest.write_text(
        manifest.read_text()
        .replace('<resource identifier="test" type="imsqti_test_xmlv2p1" href="test.xml">'
                 '<file href="test.xml"/></resource>', "")
        .replace(
            "</resources>",
            '<resource identifier="h" type="imsqti_item_xmlv2p1" href="hotspot.xml"/>'
            "</resources>",
        )
    )  # fmt: skip

    with pytest.raises(UnsupportedQtiError):
        import_qti(folder)
    result = import_qti(folder, skip_unsupported=True)
    assert len(result.content.items()) == 8
    assert {u.item_id for u in result.skipped} == {"hotspot"}


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_entities_are_refused(name: str) -> None:
    with pytest.raises(QtiError, match="document type"):
        import_qti(HERE / "hostile" / name)


def test_broken_xml_names_the_line() -> None:
    with pytest.raises(QtiError, match=r"line 5: not well-formed"):
        import_qti(HERE / "hostile" / "not_well_formed.xml")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    depth = 100_000
    path.write_text(
        '<assessmentItem identifier="deep"><itemBody>'
        + "<div>" * depth
        + "</div>" * depth
        + "</itemBody></assessmentItem>"
    )

    with pytest.raises(QtiError, match=f"nested more than {MAX_DEPTH} levels deep"):
        import_qti(path)


def test_huge_files_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as out:
        out.truncate(MAX_XML_BYTES + 1)  # sparse: nothing is really written

    with pytest.raises(QtiError, match="larger than"):
        import_qti(path)


def test_not_qti_at_all(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(QtiError, match="neither a QTI XML file nor a zip"):
        import_qti(notes)
    html = tmp_path / "page.xml"
    html.write_text("<html><body/></html>")
    with pytest.raises(QtiError, match="not a QTI assessment item"):
        import_qti(html)
    with pytest.raises(QtiError, match=r"no imsmanifest\.xml"):
        import_qti(tmp_path)


def test_cli_writes_the_exam_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exam.json"

    code = main(["--data-dir", str(tmp_path / "d"), "exam", "import-qti", str(HERE / "v30"),
                 "-o", str(out), "--version", "2026.1", "--pass-mark", "0.6"])  # fmt: skip

    assert code == 0
    exam = ExamContent.model_validate(json.loads(out.read_text()))
    assert (exam.version, exam.pass_mark, len(exam.items())) == ("2026.1", 0.6, 8)
    assert "8 items in 2 sections" in capsys.readouterr().out


def test_cli_lists_what_is_unsupported_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exam.json"

    code = main(["--data-dir", str(tmp_path / "d"), "exam", "import-qti",
                 str(HERE / "unsupported" / "hotspot.xml"), "-o", str(out)])  # fmt: skip

    assert code == 1 and not out.exists()
    err = capsys.readouterr().err
    assert "line 10: item hotspot: selectPointInteraction is not supported" in err
    assert "--skip-unsupported" in err
