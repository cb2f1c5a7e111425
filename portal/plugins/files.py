"""Which files belong to a plugin: everything in its folder but what .aicignore leaves out."""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pathspec

from portal.cancel import CancelToken
from portal.errors import InputError
from portal.i18n import _

IGNORE_FILE = ".aicignore"
MAX_IGNORE_BYTES = 64 * 1024
# Never plugin content: version-control data, caches, and the packages made from the folder.
ALWAYS_IGNORED = (
    ".git/",
    ".hg/",
    ".svn/",
    "__pycache__/",
    "*.pyc",
    ".DS_Store",
    "*.aicpkg",
    "*.aicpkg.sig.json",
    "*.aicpkg.part-*",
)


@dataclass(frozen=True)
class PluginFile:
    """A regular file of the plugin: its path in the package (NFC, `/`) and on disk."""

    path: str
    location: str  # on disk; a str, because a Path for each of 20,000 files costs 0.1 s
    size: int

    @property
    def source(self) -> Path:
        """Where the file is on disk."""
        return Path(self.location)


@dataclass(frozen=True)
class PluginTree:
    """The files a package of the folder would hold, and what cannot go in one."""

    root: Path
    files: list[PluginFile]
    links: list[str]
    special: list[str]

    @property
    def total_size(self) -> int:
        """Bytes of all files together."""
        return sum(item.size for item in self.files)


def ignore_spec(root: Path) -> pathspec.GitIgnoreSpec:
    """The defaults plus the folder's .aicignore (gitignore syntax)."""
    lines = list(ALWAYS_IGNORED)
    path = root / IGNORE_FILE
    if path.is_file():
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_IGNORE_BYTES + 1)
            if len(data) > MAX_IGNORE_BYTES:
                raise InputError(
                    _("{path} is larger than {n} bytes.").format(path=path, n=MAX_IGNORE_BYTES)
                )
            lines += data.decode("utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise InputError(_("{path} is not UTF-8 text.").format(path=path)) from exc
        except OSError as exc:
            raise InputError(
                _("{path} cannot be read: {problem}").format(path=path, problem=exc.strerror)
            ) from exc
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except (ValueError, TypeError) as exc:
        raise InputError(
            _("{path} has a pattern that cannot be read: {problem}").format(path=path, problem=exc)
        ) from exc


def _unreadable(error: OSError) -> None:
    """A folder that cannot be listed would silently leave its files out: refuse instead."""
    raise InputError(
        _("The folder {path} cannot be read: {problem}").format(
            path=error.filename, problem=error.strerror or error
        )
    )


def plugin_tree(root: Path, *, cancel: CancelToken | None = None) -> PluginTree:
    """The plugin's files in package order (by path), without following links."""
    if not root.is_dir():
        raise InputError(_("The plugin folder {path} does not exist.").format(path=root))
    spec = ignore_spec(root)
    files: list[PluginFile] = []
    links: list[str] = []
    special: list[str] = []
    for folder, dirs, names in os.walk(root, onerror=_unreadable):
        if cancel is not None:
            cancel.raise_if_cancelled()
        base = Path(folder)
        prefix = base.relative_to(root).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        kept = []
        for name in sorted(dirs):
            relative = prefix + name
            if spec.match_file(relative + "/"):
                continue
            if (base / name).is_symlink():
                links.append(relative)
            else:
                kept.append(name)
        dirs[:] = kept
        for name in names:
            relative = prefix + name
            if spec.match_file(relative):
                continue
            location = os.path.join(folder, name)
            info = os.lstat(location)
            if stat.S_ISLNK(info.st_mode):
                links.append(relative)
            elif stat.S_ISREG(info.st_mode):
                path = unicodedata.normalize("NFC", relative)
                files.append(PluginFile(path, location, info.st_size))
            else:
                special.append(relative)
    files.sort(key=lambda item: item.path)
    return PluginTree(root, files, sorted(links), sorted(special))
