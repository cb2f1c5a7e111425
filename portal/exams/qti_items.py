"""One QTI assessment item (2.1 or 3.0, names already made 2.1's) as an exam `Item`, or the
reasons it cannot be one, each with the line it is on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from portal.exams.model import (
    Choice,
    ChoiceInteraction,
    ExtendedTextInteraction,
    GapMatchInteraction,
    InlineChoiceInteraction,
    Interaction,
    Item,
    Mapping,
    MatchInteraction,
    OrderInteraction,
    Scoring,
    TextEntryInteraction,
)
from portal.exams.qti_xml import BLOCKS, Node, QtiError, shown, text_of
from portal.i18n import _

SUPPORTED = frozenset(
    {
        "choiceInteraction",
        "textEntryInteraction",
        "extendedTextInteraction",
        "orderInteraction",
        "matchInteraction",
        "inlineChoiceInteraction",
        "gapMatchInteraction",
    }
)
TEMPLATES = frozenset({"match_correct", "map_response"})
MEDIA = frozenset({"img", "object", "audio", "video", "math", "picture", "svg"})
BLANK = "_____"


@dataclass(frozen=True)
class Unsupported:
    """Something an item uses that the portal cannot show or score."""

    where: str
    """The file, as messages name it (an entry of a zip by the zip's name)."""
    item_id: str
    line: int
    what: str

    def describe(self) -> str:
        """One line for the user: where, which item, what."""
        return _("{path}, line {line}: item {item}: {what}").format(
            path=self.where, line=self.line, item=self.item_id, what=self.what
        )


def convert_item(root: Node, path: Path, language: str) -> tuple[Item | None, list[Unsupported]]:
    """The item, or None and what in it is not supported."""
    if root.tag != "assessmentItem":
        raise QtiError(
            _("{path} is not a QTI assessment item (its root element is {tag}).").format(
                path=shown(path), tag=root.tag
            )
        )
    item_id = root.get("identifier", "")
    body = _child(root, "itemBody")
    if body is None:
        raise QtiError(
            _("{path}, line {line}: item {item} has no item body.").format(
                path=shown(path), line=root.line, item=item_id
            )
        )
    problems = _problems(root, body, path, item_id)
    if problems:
        return None, problems
    interaction = next(n for n in body.iter() if isinstance(n, Node) and n.tag in SUPPORTED)
    try:
        item = _item(root, body, interaction, language)
    except (ValidationError, ValueError) as exc:
        raise QtiError(
            _("{path}, line {line}: item {item} cannot be imported: {problem}").format(
                path=shown(path), line=interaction.line, item=item_id, problem=_first(exc)
            )
        ) from exc
    return item, []


def _problems(root: Node, body: Node, path: Path, item_id: str) -> list[Unsupported]:
    found: list[Unsupported] = []

    def add(node: Node, what: str) -> None:
        found.append(Unsupported(shown(path), item_id, node.line, what))

    interactions = [n for n in body.iter() if isinstance(n, Node) and n.tag.endswith("Interaction")]
    for node in interactions:
        if node.tag not in SUPPORTED:
            add(node, _("{name} is not supported").format(name=node.tag))
    supported = [n for n in interactions if n.tag in SUPPORTED]
    if not interactions:
        add(body, _("it has no interaction"))
    elif len(supported) > 1:
        add(supported[1], _("it has more than one interaction; the portal shows one per item"))
    for element in body.iter():
        if isinstance(element, Node) and element.tag in MEDIA:
            add(
                element,
                _("<{name}>: images and other media are not imported").format(name=element.tag),
            )
    for area in root.iter("areaMapping"):
        assert isinstance(area, Node)
        add(
            area,
            _("areaMapping applies only to graphic interactions, which are not supported"),
        )
    processing = _child(root, "responseProcessing")
    if processing is not None:
        template = processing.get("template") or processing.get("templateLocation")
        if template:
            name = template.rstrip("/").rsplit("/", 1)[-1].removesuffix(".xml")
            if name not in TEMPLATES:
                add(
                    processing,
                    _("the response processing template {name} is not supported").format(name=name),
                )
        elif len(processing):
            add(
                processing,
                _("custom response processing rules are not supported (only the templates "
                  "match_correct and map_response)"),
            )  # fmt: skip
    return sorted(found, key=lambda u: u.line)


def _item(root: Node, body: Node, interaction: Node, language: str) -> Item:
    item_id = root.get("identifier", "")
    title = (root.get("title") or item_id)[:300]

    def local(text: str) -> dict[str, str]:
        return {language: text}

    prompt_node = _child(interaction, "prompt")
    extra = text_of(prompt_node) if prompt_node is not None else ""
    kind = interaction.tag
    built: Interaction
    if kind == "textEntryInteraction":
        prompt = text_of(body, replace={interaction: BLANK})
        built = TextEntryInteraction(expected_length=_int(interaction, "expectedLength"))
    elif kind == "inlineChoiceInteraction":
        block = _block_of(body, interaction)
        before, _marker, after = text_of(block, replace={interaction: "\0"}).partition("\0")
        prompt = text_of(body, replace={block: ""}) if block is not body else ""
        built = InlineChoiceInteraction(
            before=local(before.strip()),
            after=local(after.strip()),
            choices=_choices(interaction, "inlineChoice", local),
            shuffle=_bool(interaction, "shuffle"),
        )
    else:
        prompt = "\n".join(t for t in (text_of(body, replace={interaction: ""}), extra) if t)
        if kind == "choiceInteraction":
            built = ChoiceInteraction(
                choices=_choices(interaction, "simpleChoice", local),
                shuffle=_bool(interaction, "shuffle"),
                max_choices=_int(interaction, "maxChoices", 1) or 0,
                min_choices=_int(interaction, "minChoices", 0) or 0,
            )
        elif kind == "orderInteraction":
            built = OrderInteraction(
                choices=_choices(interaction, "simpleChoice", local),
                shuffle=_bool(interaction, "shuffle"),
            )
        elif kind == "matchInteraction":
            sets = [n for n in interaction if n.tag == "simpleMatchSet"]
            if len(sets) != 2:
                raise ValueError(_("a match interaction needs two simpleMatchSet elements"))
            built = MatchInteraction(
                sources=_choices(sets[0], "simpleAssociableChoice", local),
                targets=_choices(sets[1], "simpleAssociableChoice", local),
                shuffle=_bool(interaction, "shuffle"),
                max_associations=_int(interaction, "maxAssociations", 1) or 0,
            )
        elif kind == "gapMatchInteraction":
            gaps = [n for n in interaction.iter("gap")]
            skipped = {n: "" for n in interaction if n.tag in ("gapText", "gapImg", "prompt")}
            text = text_of(
                interaction,
                replace={**skipped, **{g: f"{{{{{g.get('identifier')}}}}}" for g in gaps}},
            )
            built = GapMatchInteraction(
                text=local(text),
                gaps=[g.get("identifier", "") for g in gaps],
                gap_texts=_choices(interaction, "gapText", local),
                shuffle=_bool(interaction, "shuffle"),
            )
        else:
            built = ExtendedTextInteraction(expected_lines=_int(interaction, "expectedLines"))
    if kind in ("textEntryInteraction", "inlineChoiceInteraction") and extra:
        prompt = "\n".join(t for t in (prompt, extra) if t)
    scoring = _scoring(root, interaction, kind)
    points = 1.0
    if scoring is not None and scoring.mapping is not None:
        mapping = scoring.mapping
        points = mapping.upper_bound or sum(v for v in mapping.entries.values() if v > 0) or 1.0
    return Item(
        id=item_id,
        title=title,
        prompt=local(prompt or title),
        interaction=built,
        points=points,
        scoring=scoring,
    )


def _scoring(root: Node, interaction: Node, kind: str) -> Scoring | None:
    if kind == "extendedTextInteraction":
        return Scoring(template="manual")
    processing = _child(root, "responseProcessing")
    if processing is None:
        return None
    template = processing.get("template") or processing.get("templateLocation") or ""
    name = template.rstrip("/").rsplit("/", 1)[-1].removesuffix(".xml")
    response = interaction.get("responseIdentifier")
    declaration = next(
        (n for n in root if n.tag == "responseDeclaration" and n.get("identifier") == response),
        None,
    )
    if declaration is None:
        raise ValueError(_("no responseDeclaration for the response {id}").format(id=response))
    correct_node = _child(declaration, "correctResponse")
    correct = (
        [(v.text or "").strip() for v in correct_node if v.tag == "value"]
        if correct_node is not None
        else []
    )
    mapping_node = _child(declaration, "mapping")
    mapping = None
    if mapping_node is not None:
        entries = [n for n in mapping_node if n.tag == "mapEntry"]
        mapping = Mapping(
            entries={e.get("mapKey", ""): float(e.get("mappedValue", "0")) for e in entries},
            default=float(mapping_node.get("defaultValue", "0")),
            lower_bound=_float(mapping_node, "lowerBound"),
            upper_bound=_float(mapping_node, "upperBound"),
            case_sensitive=all(e.get("caseSensitive", "true").lower() == "true" for e in entries),
        )
    if name == "map_response":
        if mapping is None:
            raise ValueError(_("map_response needs a mapping in the response declaration"))
        return Scoring(template="map_response", correct=correct, mapping=mapping)
    return Scoring(template="match_correct", correct=correct, mapping=mapping)


def _choices(parent: ET.Element, tag: str, local: Callable[[str], dict[str, str]]) -> list[Choice]:
    return [
        Choice(
            id=n.get("identifier", ""),
            text=local(text_of(n)),
            fixed=_bool(n, "fixed"),
            match_max=_int(n, "matchMax", 1) or 0,
        )
        for n in parent
        if n.tag == tag
    ]


def _block_of(body: Node, target: Node) -> Node:
    """The innermost paragraph-like element around `target` (the body when there is none)."""
    parents = {child: parent for parent in body.iter() for child in parent}
    node = parents.get(target)
    while node is not None and node is not body and node.tag not in BLOCKS:
        node = parents.get(node)
    return node if isinstance(node, Node) else body


def _child(node: ET.Element, tag: str) -> Node | None:
    found = next((n for n in node if n.tag == tag), None)
    return found if isinstance(found, Node) else None


def _bool(node: ET.Element, name: str) -> bool:
    return node.get(name, "false").strip().lower() in ("true", "1")


def _int(node: ET.Element, name: str, default: int | None = None) -> int | None:
    value = node.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            _("{name}=“{value}” is not a whole number").format(name=name, value=value)
        ) from None


def _float(node: ET.Element, name: str) -> float | None:
    value = node.get(name)
    return None if value is None else float(value)


def _first(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        return f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", ""))
    return str(exc)
