"""`plugin new`: a working plugin folder from a template shipped with the app."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from portal.errors import InputError
from portal.i18n import _

if TYPE_CHECKING:
    from portal.plugins.manifest import StandardPlugin

TEMPLATES = ("model-serving", "data-connector", "pipeline-step", "hardware-backend")


def templates_dir() -> Path:
    """Where the templates are: beside this module, also inside a frozen installer."""
    return Path(__file__).resolve().parent / "templates"


def create_plugin(template: str, folder: Path, *, name: str | None = None) -> StandardPlugin:
    """Copy a template into a new (or empty) folder and give the plugin its name."""
    # Imported here so that the command line's help does not wait for pydantic.
    from portal.plugins.document import load_manifest, update_manifest
    from portal.plugins.manifest import DNS_LABEL, MANIFEST_NAME

    if template not in TEMPLATES:
        raise InputError(
            _("There is no template {name}; choose one of {choices}.").format(
                name=template, choices=", ".join(TEMPLATES)
            )
        )
    folder = folder.absolute()
    name = name or folder.name.lower()
    if not re.match(DNS_LABEL, name):
        raise InputError(
            _(
                "“{name}” cannot be a plugin name: use lowercase letters, digits and hyphens "
                "(at most 63), or give one with --name."
            ).format(name=name)
        )
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InputError(_("The folder {path} must be empty or not exist yet.").format(path=folder))
    existed = folder.exists()
    try:
        shutil.copytree(
            templates_dir() / template,
            folder,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        endpoint = load_manifest(folder).manifest.spec.endpoint
        return update_manifest(
            folder / MANIFEST_NAME,
            {
                "metadata.name": name,
                "metadata.displayName": name.replace("-", " ").capitalize(),
                "spec.endpoint": endpoint.rsplit("/", 1)[0] + "/" + name,
            },
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        if existed:
            folder.mkdir()
        raise
