"""report.html: one standalone page a vendor opens in any browser: the verdict, the error of each
check against its limit (inline SVG, log scale), and each failure with its repro. Everything that
came from the backend is escaped; nothing is loaded from elsewhere."""

from __future__ import annotations

import math
from datetime import datetime
from html import escape
from typing import Any

from portal.conformance import labels
from portal.conformance.results import Status
from portal.i18n import (
    _,
    current_locale,
    format_datetime,
    format_number,
    pgettext,
    text_direction,
)

LOW, HIGH = -4, 2  # the plot's decades: 1e-4 to 100 times the limit
BAR_H, LABEL_W, PLOT_W, PAD = 18, 260, 420, 28

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:62rem;padding:0 1rem;
color:#1d2430}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:start;padding:.3rem .5rem;
border-bottom:1px solid #d9dee7;vertical-align:top}th{background:#f3f5f9}
.PASS{color:#17663a}.QUALITY_WARNING{color:#8a5a00}.FAIL,.ERROR{color:#b3261e}
.NOT_SUPPORTED{color:#5b6474}.verdict{font-size:1.1rem;font-weight:600}
pre{background:#f3f5f9;padding:.6rem;overflow:auto;white-space:pre-wrap}
.note{color:#5b6474}svg text{font:12px system-ui,sans-serif}
"""


def render_html(report: dict[str, Any]) -> str:
    """The page for a report as report.json holds it (`report_data`)."""
    title = _("Conformance report: {profile} on {backend}").format(
        profile=report["profile"], backend=report["backend"]["spec"]
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(current_locale())}" dir="{text_direction()}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        _summary(report),
        f"<h2>{escape(_('Error against the limit'))}</h2>",
        _plot(report["results"]),
        _failures(report["results"]),
        f"<h2>{escape(_('Every check'))}</h2>",
        _checks(report["results"]),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _summary(report: dict[str, Any]) -> str:
    passed = bool(report.get("passed"))
    verdict = _("Every required check passed.") if passed else _("Not passed.")
    challenge = report.get("challenge") or {}
    if challenge.get("state") == "challenged":
        challenged = _(
            "Challenged by the marketplace (challenge {id}); seed {seed} derives from "
            "its nonce and the base seed {base}."
        ).format(id=challenge.get("id"), seed=report.get("seed"), base=challenge.get("baseSeed"))
    else:
        challenged = _(
            "Unchallenged: run without a marketplace challenge, so it cannot be certified."
        )
    counts = ", ".join(
        f"{_label(status)}: {format_number(n)}"
        for status, n in (report.get("summary") or {}).items()
        if status in set(Status) and n
    )
    table = report.get("toleranceTable") or {}
    tool = report.get("tool") or {}
    rows = [
        (
            _("Verdict"),
            f'<span class="verdict {"PASS" if passed else "FAIL"}">{escape(verdict)}</span>',
        ),
        (_("Challenge"), escape(challenged)),
        (_("Checks"), escape(counts)),
        (_("Seed"), escape(str(report.get("seed")))),
        (
            _("Tolerance table"),
            escape(
                _("v{version}, SHA-256 {sha256}").format(
                    version=table.get("version"), sha256=table.get("sha256")
                )
            ),
        ),
        *(
            (
                _("Waiver"),
                escape(
                    _("{op} on {dtype}: {table} loosened to {waived}, because: {reason}").format(
                        op=w.get("op"),
                        dtype=w.get("dtype"),
                        table=_limit(w.get("table")),
                        waived=_limit(w.get("waived")),
                        reason=w.get("reason"),
                    )
                ),
            )
            for w in table.get("waivers") or []
            if isinstance(w, dict)
        ),
        (_("Started"), escape(_moment(report.get("startedAt")))),
        (_("Finished"), escape(_moment(report.get("finishedAt")))),
        (_("Made by"), escape(f"{tool.get('name')} {tool.get('version')}")),
    ]
    body = "".join(f'<tr><th scope="row">{escape(k)}</th><td>{v}</td></tr>' for k, v in rows)
    return f"<table>{body}</table>"


def _limit(limit: object) -> str:
    """A recorded limit ("rtol 0.001, atol 0.01") as the report shows it."""
    if not isinstance(limit, dict):
        return "?"
    return ", ".join(f"{key} {value}" for key, value in limit.items())


def _moment(text: object) -> str:
    """An ISO 8601 time from the report as the locale writes it (as it came if it is not one)."""
    try:
        return format_datetime(datetime.fromisoformat(str(text)))
    except ValueError:
        return str(text)


def _ratio(result: dict[str, Any]) -> float | None:
    """The measured error as a multiple of the limit ("Infinity", "NaN" as floats), if any."""
    value = (result.get("measured") or {}).get("ratio")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if value in ("Infinity", "NaN"):
        return float(value.lower().replace("infinity", "inf"))
    return None


def _x(ratio: float) -> float:
    """Where a ratio sits on the log axis, clamped to the plot."""
    if math.isnan(ratio) or ratio == math.inf:
        return PLOT_W
    exponent = math.log10(ratio) if ratio > 0 else LOW
    return (min(max(exponent, LOW), HIGH) - LOW) / (HIGH - LOW) * PLOT_W


def _plot(results: list[dict[str, Any]]) -> str:
    """One bar per check that measured an error: its ratio to the limit, the limit at 1."""
    measured = [(r, ratio) for r in results if (ratio := _ratio(r)) is not None]
    if not measured:
        return f'<p class="note">{escape(_("No check of this run measured an error."))}</p>'
    height = PAD * 2 + BAR_H * len(measured)
    caption = _(
        "Measured error divided by the tolerance, per check (log scale); the line at 1 is "
        "the limit, beyond it a check fails or warns."
    )
    out = [
        f'<figure><svg role="img" aria-label="{escape(caption)}" width="{LABEL_W + PLOT_W + 80}" '
        f'height="{height}" viewBox="0 0 {LABEL_W + PLOT_W + 80} {height}">'
    ]
    for decade in range(LOW, HIGH + 1):
        x = LABEL_W + _x(10.0**decade)
        out.append(
            f'<line x1="{x:.1f}" y1="{PAD - 4}" x2="{x:.1f}" y2="{height - PAD + 4}" '
            'stroke="#e3e7ee"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">'
            f"{escape(_short(10.0**decade))}</text>"
        )
    for row, (result, ratio) in enumerate(measured):
        y = PAD + row * BAR_H
        status = str(result.get("status"))
        colour = {"PASS": "#2e8b57", "QUALITY_WARNING": "#d49a00"}.get(status, "#c0392b")
        shown = _number(ratio)
        out.append(
            f'<text x="{LABEL_W - 6}" y="{y + 13}" text-anchor="end">'
            f"{escape(str(result.get('check')))}</text>"
        )
        out.append(
            f'<rect x="{LABEL_W}" y="{y + 3}" width="{max(_x(ratio), 1):.1f}" '
            f'height="{BAR_H - 6}" fill="{colour}"><title>'
            f"{escape(str(result.get('check')))}: {escape(shown)}</title></rect>"
        )
        out.append(f'<text x="{LABEL_W + _x(ratio) + 4:.1f}" y="{y + 13}">{escape(shown)}</text>')
    limit = LABEL_W + _x(1.0)
    out.append(
        f'<line x1="{limit:.1f}" y1="{PAD - 8}" x2="{limit:.1f}" y2="{height - PAD + 4}" '
        'stroke="#b3261e" stroke-width="2" stroke-dasharray="5 3"/>'
    )
    out.append(
        f'<text x="{limit + 4:.1f}" y="{PAD - 10}" fill="#b3261e">{escape(_("limit"))}</text>'
    )
    out.append(f'</svg><figcaption class="note">{escape(caption)}</figcaption></figure>')
    return "\n".join(out)


def _failures(results: list[dict[str, Any]]) -> str:
    failed = [r for r in results if r.get("status") in (Status.FAIL, Status.ERROR)]
    if not failed:
        return f"<h2>{escape(_('Failures'))}</h2><p>{escape(_('No check failed.'))}</p>"
    out = [f"<h2>{escape(_('Failures'))}</h2>"]
    for result in failed:
        status = str(result.get("status"))
        out.append(
            f"<h3>{escape(str(result.get('check')))}: "
            f'<span class="{escape(status)}">{escape(_label(status))}</span></h3>'
            f"<p>{escape(str(result.get('message', '')))}</p>"
        )
        measured = result.get("measured") or {}
        if measured:
            items = "".join(
                f'<tr><th scope="row">{escape(str(k))}</th><td>{escape(str(v))}</td></tr>'
                for k, v in sorted(measured.items())
            )
            out.append(f"<table>{items}</table>")
        repro = result.get("repro")
        if isinstance(repro, dict):
            out.append(
                "<p>"
                + escape(
                    _("To reproduce: seed {seed}, dtype {dtype}, input shapes {shapes}.").format(
                        seed=repro.get("seed"), dtype=repro.get("dtype"), shapes=repro.get("shapes")
                    )
                )
                + f"</p><pre>{escape(str(repro.get('snippet', '')))}</pre>"
            )
    return "\n".join(out)


def _checks(results: list[dict[str, Any]]) -> str:
    head = "".join(
        f'<th scope="col">{escape(h)}</th>'
        for h in (_("Check"), _("Required"), _("Result"), _("Error / limit"), _("Message"))
    )
    rows = []
    for result in results:
        status = str(result.get("status"))
        ratio = _ratio(result)
        rows.append(
            "<tr>"
            f"<td>{escape(str(result.get('check')))}</td>"
            f"<td>{escape(_required(result))}</td>"
            f'<td class="{escape(status)}">{escape(_label(status))}</td>'
            f"<td>{escape(_number(ratio))}</td>"
            f"<td>{escape(str(result.get('message', '')))}</td>"
            "</tr>"
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _required(result: dict[str, Any]) -> str:
    """Whether a check must pass for certification, in words."""
    if result.get("required"):
        return pgettext("required check", "yes")
    return pgettext("required check", "no")


def _label(status: str) -> str:
    """A status in words; one this version does not know, as it came."""
    return labels.check_status(status) if status in set(Status) else status


def _number(ratio: float | None) -> str:
    if ratio is None:
        return "–"
    if math.isnan(ratio):
        return _("not a number")
    if math.isinf(ratio):
        return "∞"
    return _short(ratio)


def _short(value: float) -> str:
    """Three significant digits in the locale's notation; scientific when far from 1."""
    from babel.numbers import format_decimal, format_scientific

    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return format_decimal(
            float(f"{value:.3g}"), locale=current_locale(), decimal_quantization=False
        )
    return format_scientific(value, "0.##E0", locale=current_locale())
