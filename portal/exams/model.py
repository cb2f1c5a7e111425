"""The exam item model: what QTI import makes, packages carry, sittings show and scoring reads."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from portal.i18n import _, ngettext

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")]
LocalText = dict[str, str]
"""Text in every language of the exam, by BCP 47 tag ("en", "fr", "ar")."""

Answer = list[str]
"""Every answer is a list of strings, empty when unanswered: choice ids for choice and inline
choice, the choice ids in order for order, "SOURCE TARGET" pairs for match and gap match (QTI's
directedPair, gap match as "GAPTEXT GAP"), and one typed text for text entry and extended text."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Model):
    """An option, an orderable item, a match source or target, or a gap text."""

    id: Identifier
    text: LocalText
    fixed: bool = False
    """Stays in place when the others are shuffled (QTI's `fixed`)."""
    match_max: int = Field(default=1, ge=0)
    """How many associations it may take part in (match and gap match; 0 = unlimited)."""


class ChoiceInteraction(_Model):
    """Single response (max_choices 1) or multiple response."""

    kind: Literal["choice"] = "choice"
    choices: list[Choice] = Field(min_length=2)
    shuffle: bool = False
    max_choices: int = Field(default=1, ge=0)
    """0 means no limit."""
    min_choices: int = Field(default=0, ge=0)


class TextEntryInteraction(_Model):
    """A short typed answer, scored against accepted values."""

    kind: Literal["text_entry"] = "text_entry"
    expected_length: int | None = Field(default=None, ge=1)


class ExtendedTextInteraction(_Model):
    """An essay: always scored by a person."""

    kind: Literal["extended_text"] = "extended_text"
    expected_lines: int | None = Field(default=None, ge=1)


class OrderInteraction(_Model):
    """Put every choice in the right order."""

    kind: Literal["order"] = "order"
    choices: list[Choice] = Field(min_length=2)
    shuffle: bool = False


class MatchInteraction(_Model):
    """Associate sources with targets."""

    kind: Literal["match"] = "match"
    sources: list[Choice] = Field(min_length=1)
    targets: list[Choice] = Field(min_length=1)
    shuffle: bool = False
    max_associations: int = Field(default=0, ge=0)
    """0 means no limit."""


class InlineChoiceInteraction(_Model):
    """A drop-down inside a sentence: `before` [choice] `after`."""

    kind: Literal["inline_choice"] = "inline_choice"
    before: LocalText
    after: LocalText
    choices: list[Choice] = Field(min_length=2)
    shuffle: bool = False


class GapMatchInteraction(_Model):
    """Drag gap texts into the gaps of a text; a gap is written `{{GAP_ID}}` in `text`."""

    kind: Literal["gap_match"] = "gap_match"
    text: LocalText
    gaps: list[Identifier] = Field(min_length=1)
    gap_texts: list[Choice] = Field(min_length=1)
    shuffle: bool = False


Interaction = Annotated[
    ChoiceInteraction
    | TextEntryInteraction
    | ExtendedTextInteraction
    | OrderInteraction
    | MatchInteraction
    | InlineChoiceInteraction
    | GapMatchInteraction,
    Field(discriminator="kind"),
]


class Mapping(_Model):
    """QTI's `mapping`: points per answer value, summed, then bounded."""

    entries: dict[str, float]
    default: float = 0.0
    lower_bound: float | None = None
    upper_bound: float | None = None
    case_sensitive: bool = True


class Scoring(_Model):
    """How an item is scored: a QTI response-processing template and its key."""

    template: Literal["match_correct", "map_response", "manual"]
    correct: Answer = Field(default_factory=list)
    """The correct answer in `Answer` form (for text entry: every accepted text)."""
    mapping: Mapping | None = None

    @model_validator(mode="after")
    def _has_key(self) -> Scoring:
        if self.template == "map_response" and self.mapping is None:
            raise ValueError(_("map_response needs a mapping"))
        if self.template == "match_correct" and not self.correct:
            raise ValueError(_("match_correct needs a correct answer"))
        return self


class Item(_Model):
    """One question."""

    id: Identifier
    title: str = Field(max_length=300)
    """The author's name for the item (not shown to candidates)."""
    prompt: LocalText
    interaction: Interaction
    points: float = Field(default=1.0, gt=0)
    """The most the item can score."""
    scoring: Scoring | None = None
    """The key: absent in certification packages (the marketplace scores those)."""
    feedback: LocalText | None = None
    """Shown after a practice answer is scored."""
    media: list[str] = Field(default_factory=list)
    """Names of files in the package's media that the prompt shows."""

    def choice_ids(self) -> set[str]:
        """Every id an answer may name."""
        i = self.interaction
        if isinstance(i, MatchInteraction):
            return {c.id for c in (*i.sources, *i.targets)}
        if isinstance(i, GapMatchInteraction):
            return {c.id for c in i.gap_texts} | set(i.gaps)
        if isinstance(i, ChoiceInteraction | OrderInteraction | InlineChoiceInteraction):
            return {c.id for c in i.choices}
        return set()

    @model_validator(mode="after")
    def _ids_unique(self) -> Item:
        i = self.interaction
        groups: list[list[str]] = []
        if isinstance(i, MatchInteraction):
            groups = [[c.id for c in (*i.sources, *i.targets)]]
        elif isinstance(i, GapMatchInteraction):
            groups = [[c.id for c in i.gap_texts] + list(i.gaps)]
        elif isinstance(i, ChoiceInteraction | OrderInteraction | InlineChoiceInteraction):
            groups = [[c.id for c in i.choices]]
        for ids in groups:
            if len(ids) != len(set(ids)):
                raise ValueError(_("item {item}: two choices share an id").format(item=self.id))
        if (
            isinstance(i, ExtendedTextInteraction)
            and self.scoring
            and (self.scoring.template != "manual")
        ):
            raise ValueError(
                _("item {item}: extended text answers are scored by hand").format(item=self.id)
            )
        return self


class Section(_Model):
    """A pool of items; a sitting draws `draw` of them (all when absent)."""

    id: Identifier
    title: LocalText
    draw: int | None = Field(default=None, ge=1)
    items: list[Item] = Field(min_length=1)

    @model_validator(mode="after")
    def _draw_fits(self) -> Section:
        if self.draw is not None and self.draw > len(self.items):
            raise ValueError(
                ngettext(
                    "section {section} draws {draw} items from a pool of {pool}",
                    "section {section} draws {draw} items from a pool of {pool}",
                    len(self.items),
                ).format(section=self.id, draw=self.draw, pool=len(self.items))
            )
        return self


class ExamContent(_Model):
    """Everything an exam package carries, inside its encryption."""

    format: Literal[1] = 1
    exam_id: Identifier
    version: str = Field(pattern=r"^[0-9A-Za-z.\-+]{1,32}$")
    title: LocalText
    languages: list[str] = Field(min_length=1)
    duration_s: int = Field(gt=0)
    pass_mark: float = Field(ge=0, le=1)
    """The fraction of the points needed to pass."""
    practice: bool = False
    time_runs_while_closed: bool = False
    """Whether the clock goes on while the app is closed (else it resumes where it stopped)."""
    sections: list[Section] = Field(min_length=1)

    def items(self) -> list[Item]:
        """Every item of every pool, in order."""
        return [item for section in self.sections for item in section.items]

    def item(self, item_id: str) -> Item:
        """The item with this id (KeyError when there is none)."""
        for item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def without_keys(self) -> ExamContent:
        """The same exam with no answer keys or feedback, as a certification package carries it."""
        sections = [
            s.model_copy(
                update={
                    "items": [
                        i.model_copy(update={"scoring": None, "feedback": None}) for i in s.items
                    ]
                }
            )
            for s in self.sections
        ]
        return self.model_copy(update={"sections": sections})

    @model_validator(mode="after")
    def _consistent(self) -> ExamContent:
        ids = [item.id for item in self.items()]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(_("item ids used twice: {ids}").format(ids=", ".join(duplicates)))
        if self.practice:
            unkeyed = [i.id for i in self.items() if i.scoring is None]
            if unkeyed:
                raise ValueError(
                    _("a practice exam needs a key for every item; missing: {ids}").format(
                        ids=", ".join(unkeyed)
                    )
                )
        for where, text in _texts(self):
            missing = [lang for lang in self.languages if lang not in text]
            if missing:
                raise ValueError(
                    _("{where} has no text in {languages}").format(
                        where=where, languages=", ".join(missing)
                    )
                )
        return self


def _texts(exam: ExamContent) -> list[tuple[str, LocalText]]:
    """Every translatable text of an exam, with where it is, so a missing language is named."""
    found: list[tuple[str, LocalText]] = [(_("the exam title"), exam.title)]
    for section in exam.sections:
        found.append((_("section {id}").format(id=section.id), section.title))
        for item in section.items:
            where = _("item {id}").format(id=item.id)
            found.append((where, item.prompt))
            i = item.interaction
            choices: list[Choice] = []
            if isinstance(i, MatchInteraction):
                choices = [*i.sources, *i.targets]
            elif isinstance(i, GapMatchInteraction):
                choices = list(i.gap_texts)
                found.append((where, i.text))
            elif isinstance(i, InlineChoiceInteraction):
                choices = list(i.choices)
                found.extend([(where, i.before), (where, i.after)])
            elif isinstance(i, ChoiceInteraction | OrderInteraction):
                choices = list(i.choices)
            found.extend((where, c.text) for c in choices)
    return found


def answer_problem(item: Item, answer: Answer) -> str | None:
    """Why an answer cannot be recorded for this item (None when it can), in the user's words."""
    i = item.interaction
    if isinstance(i, TextEntryInteraction | ExtendedTextInteraction):
        return None if len(answer) <= 1 else _("a typed answer is one text")
    known = item.choice_ids()
    named = [part for value in answer for part in value.split(" ")]
    unknown = sorted(set(named) - known)
    if unknown:
        return _("unknown choices: {ids}").format(ids=", ".join(unknown))
    if len(set(answer)) != len(answer):
        return _("the same choice is given twice")
    if isinstance(i, ChoiceInteraction) and i.max_choices and len(answer) > i.max_choices:
        return ngettext("at most {count} choice", "at most {count} choices", i.max_choices).format(
            count=i.max_choices
        )
    if isinstance(i, InlineChoiceInteraction) and len(answer) > 1:
        return _("one choice only")
    if isinstance(i, OrderInteraction) and answer and sorted(answer) != sorted(known):
        return _("an order must place every choice once")
    if isinstance(i, MatchInteraction | GapMatchInteraction):
        if any(len(value.split(" ")) != 2 for value in answer):
            return _("an association is two ids separated by a space")
        if (
            isinstance(i, MatchInteraction)
            and i.max_associations
            and (len(answer) > i.max_associations)
        ):
            return ngettext(
                "at most {count} association", "at most {count} associations", i.max_associations
            ).format(count=i.max_associations)
    return None
