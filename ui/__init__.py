"""The PySide6 desktop client; it shows what `portal` does and never does the work itself."""
