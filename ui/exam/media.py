"""A picture from the exam package under an item's prompt: decoded from the package's bytes,
scaled down to the page's width, named for screen readers by its file name."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPaintEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from portal.i18n import _


class MediaPicture(QWidget):
    """A PNG, JPEG or SVG, never drawn larger than its own size nor wider than the page."""

    def __init__(self, name: str, *, image: QImage | None = None, svg: QSvgRenderer | None = None):
        super().__init__()
        self.setObjectName("media")
        self.name = name
        self.image, self.svg = image, svg
        natural = image.size() if image is not None else svg.defaultSize() if svg else QSize()
        self.natural = natural if natural.isValid() and not natural.isEmpty() else QSize(200, 200)
        self.setAccessibleName(_("Picture: {name}").format(name=name))
        self.setAccessibleDescription(name)
        self.setToolTip(name)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """As large as the picture is."""
        return self.natural

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Shrinks with the page down to a thumbnail."""
        return QSize(min(48, self.natural.width()), min(48, self.natural.height()))

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        """The height follows the width, so the picture keeps its shape."""
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        """The height of the picture scaled to `width` (never enlarged)."""
        shown = min(width, self.natural.width())
        return max(1, round(self.natural.height() * shown / self.natural.width()))

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Draw the picture scaled to fit, keeping its proportions."""
        target = QSize(self.natural).scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = target.boundedTo(self.natural)
        rect = QRectF(0, 0, target.width(), target.height())
        if self.layoutDirection() == Qt.LayoutDirection.RightToLeft:
            rect.moveRight(self.width())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if self.image is not None:
            painter.drawImage(rect, self.image)
        elif self.svg is not None:
            self.svg.render(painter, rect)
        painter.end()


def media_widget(name: str, data: bytes | None) -> QWidget:
    """The picture named `name`, or a line that says it cannot be shown."""
    if data is not None:
        if name.lower().endswith((".svg", ".svgz")):
            svg = QSvgRenderer(QByteArray(data))
            if svg.isValid():
                return MediaPicture(name, svg=svg)
        else:
            image = QImage.fromData(data)
            if not image.isNull():
                return MediaPicture(name, image=image)
    line = QLabel(
        _(
            "The picture “{name}” cannot be shown: its file is damaged or of a kind this app "
            "cannot show."
        ).format(name=name)
    )
    line.setObjectName("mediaProblem")
    line.setWordWrap(True)
    line.setTextFormat(Qt.TextFormat.PlainText)
    line.setAccessibleName(line.text())
    return line
