"""The baseline of the start-up budget: a bare PySide6 main window with one label."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from portal.proctime import process_age_ms, resident_mib
from ui.first_paint import on_first_paint


def main() -> int:
    """Paint one window, print the milliseconds since process start, quit."""
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setCentralWidget(QLabel("AIC Partner Portal"))
    window.resize(1100, 720)

    def painted() -> None:
        print(f"startup_ms={process_age_ms():.1f}", flush=True)
        print(f"idle_rss_mib={resident_mib():.1f}", flush=True)
        app.quit()

    on_first_paint(window, painted)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
