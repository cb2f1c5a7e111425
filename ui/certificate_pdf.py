"""The printable certificate: an A4 landscape PDF page drawn with Qt, with a QR code to verify."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

import segno
from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from portal.atomic import write_atomically
from portal.exams.credentials import CredentialCheck
from portal.i18n import _, format_date, format_percent, text_direction

RESOLUTION = 300
INK = QColor("#1f2a44")
ACCENT = QColor("#2d6cdf")


def qr_payload(check: CredentialCheck) -> str:
    """What the QR code carries: where to verify, and the digest of the exact credential."""
    return f"{check.verification_url}#sha256={check.digest}"


def render_certificate_pdf(check: CredentialCheck, out: Path) -> Path:
    """Write the certificate to `out` atomically: a failed render leaves nothing under its name."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    _draw(check, QPdfWriter(buffer))
    write_atomically(out, bytes(buffer.data().data()))
    return out


def _draw(check: CredentialCheck, writer: QPdfWriter) -> None:
    writer.setResolution(RESOLUTION)
    writer.setTitle(_("Certificate: {exam}").format(exam=check.exam_title))
    writer.setCreator("AIC Partner Portal")
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Landscape,
            QMarginsF(12, 12, 12, 12),
            QPageLayout.Unit.Millimeter,
        )
    )
    painter = QPainter(writer)
    try:
        page = QRectF(0, 0, writer.width(), writer.height())
        rtl = text_direction() == "rtl"
        painter.setLayoutDirection(
            Qt.LayoutDirection.RightToLeft if rtl else Qt.LayoutDirection.LeftToRight
        )
        _frame(painter, page)
        mm = RESOLUTION / 25.4
        inner = page.adjusted(18 * mm, 16 * mm, -18 * mm, -16 * mm)
        y = inner.top()
        lines = [
            (_("AIC-Platform"), 14, False, ACCENT),
            (_("Certificate of achievement"), 30, True, INK),
            (_("This certifies that"), 13, False, INK),
            (check.holder_name, 28, True, INK),
            (_("passed the certification exam"), 13, False, INK),
            (check.exam_title, 20, True, ACCENT),
            (_("with a score of {score}").format(score=_percent(check.score)), 13, False, INK),
        ]
        for text, size, bold, colour in lines:
            height = size * 2.2 * RESOLUTION / 72
            _text(painter, QRectF(inner.left(), y, inner.width(), height), text, size, bold, colour)
            y += height
        qr_side = 34 * mm
        qr_left = inner.left() if not rtl else inner.right() - qr_side
        qr = QRectF(qr_left, inner.bottom() - qr_side, qr_side, qr_side)
        _qr(painter, qr, qr_payload(check))
        details = [
            _("Partner: {partner}").format(partner=check.partner_id),
            _("Issued on {date}").format(date=format_date(check.issued_at, length="long")),
            _("Valid until {date}").format(date=format_date(check.valid_until, length="long")),
            _("Issued by {issuer}").format(issuer=check.issuer),
            _("Scan the code or visit {url} to verify.").format(url=check.verification_url),
            _("Credential digest (SHA-256): {digest}").format(digest=check.digest),
        ]
        block_width = inner.width() - qr_side - 8 * mm
        block_left = qr.right() + 8 * mm if not rtl else inner.left()
        row = 9 * 1.9 * RESOLUTION / 72
        top = inner.bottom() - row * len(details)
        for index, text in enumerate(details):
            rect = QRectF(block_left, top + index * row, block_width, row)
            _text(painter, rect, text, 9, False, INK, align=Qt.AlignmentFlag.AlignLeading)
    finally:
        painter.end()


def _frame(painter: QPainter, page: QRectF) -> None:
    """A double rule around the page."""
    mm = RESOLUTION / 25.4
    painter.setPen(QPen(ACCENT, 1.6 * mm))
    painter.drawRect(page.adjusted(4 * mm, 4 * mm, -4 * mm, -4 * mm))
    painter.setPen(QPen(INK, 0.4 * mm))
    painter.drawRect(page.adjusted(8 * mm, 8 * mm, -8 * mm, -8 * mm))


def _text(
    painter: QPainter,
    rect: QRectF,
    text: str,
    points: int,
    bold: bool,
    colour: QColor,
    *,
    align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignHCenter,
) -> None:
    """One line, shrunk until it fits the rectangle (long names and titles stay whole)."""
    font = QFont()
    font.setBold(bold)
    size = float(points)
    while True:
        font.setPointSizeF(size)
        painter.setFont(font)
        needed = painter.boundingRect(rect, Qt.TextFlag.TextSingleLine, text).width()
        if needed <= rect.width() or size <= 6:
            break
        size *= 0.92
    painter.setPen(colour)
    painter.drawText(rect, int(align | Qt.AlignmentFlag.AlignVCenter), text)


def _qr(painter: QPainter, rect: QRectF, payload: str) -> None:
    """The QR code, black modules on white with its quiet zone, scaled to `rect`."""
    code = segno.make(payload, error="m", micro=False)
    matrix = list(code.matrix_iter(border=4))
    module = QSizeF(rect.width() / len(matrix), rect.height() / len(matrix))
    painter.fillRect(rect, QColor("white"))
    for row, cells in enumerate(matrix):
        for column, dark in enumerate(cells):
            if dark:
                painter.fillRect(
                    QRectF(
                        rect.left() + column * module.width(),
                        rect.top() + row * module.height(),
                        module.width() + 0.5,
                        module.height() + 0.5,
                    ),
                    QColor("black"),
                )


def _percent(score: str) -> str:
    """The credential's score text ("0.86") as the locale writes a percentage."""
    try:
        return format_percent(Decimal(score))
    except InvalidOperation:
        return score
