"""Plugin folders made from the shipped templates, so tests start from something valid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from portal.plugins.templates import create_plugin

MakePlugin = Callable[..., Path]


@pytest.fixture
def make_plugin(tmp_path: Path) -> MakePlugin:
    """Create a plugin from a template under tmp_path and return its folder."""

    def make(template: str = "model-serving", name: str = "demo-plugin") -> Path:
        folder = tmp_path / "src" / name
        create_plugin(template, folder)
        return folder

    return make
