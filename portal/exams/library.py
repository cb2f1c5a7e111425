"""The exam packages kept on this computer: importing them, the keys they are checked with, and
unlocking one with its sitting code under a limit of wrong tries.

Trust: a package is accepted only when signed by a marketplace key this data dir trusts. Those
are the keys `GET /v1/marketplace/keys` listed over the verified (and optionally pinned) TLS
connection at a sync or download, kept in `marketplace-keys.json`; keys a proctor handed over
for a machine that never goes online (`aic-portal exam trust-key`); and the embedded sandbox's
key, read from its folder in this same data dir.

Wrong codes: each try is counted in the database before the code is checked (so killing the app
mid-try saves nothing), and a right code clears the count. After MAX_ATTEMPTS wrong codes the
package stays locked, across restarts and re-imports, until a proctor clears it with `aic-portal
exam reset-attempts`. This stops guessing at the sitting; against someone who copies the file
away, the defence is the code's length and the scrypt cost in the package.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select, update

from portal.atomic import write_atomically
from portal.db.models import Exam, Sitting
from portal.db.store import Store
from portal.errors import InputError, StorageError
from portal.exams.package import (
    DamagedPackageError,
    ExamHeader,
    ExpiredPackageError,
    OpenedExam,
    PackageError,
    WrongCodeError,
    open_package,
    read_header,
)
from portal.i18n import _, current_locale, format_date, ngettext
from portal.paths import DataDir
from portal.plugins.dsse import key_id, public_key_from_pem

MAX_ATTEMPTS = 5
EXAMS_FOLDER = "exams"
KEYS_FILE = "marketplace-keys.json"
EMBEDDED_SANDBOX_KEY = Path("sandbox") / "tls" / "marketplace-signing.pub"
"""Where `aic-portal sandbox serve` in this data dir keeps its public key (portal.sandbox is a
server this side never imports, so the name is repeated here)."""
_CHUNK = 1 << 20


class LockedPackageError(PackageError):
    """Too many wrong sitting codes were tried on this package here."""


@dataclass(frozen=True)
class TrustedKey:
    """A marketplace signing key and where it came from."""

    key_id: str
    public_key: Ed25519PublicKey
    source: str


def exams_folder(data_dir: DataDir) -> Path:
    """Where imported packages are kept."""
    return data_dir.root / EXAMS_FOLDER


def trusted_keys(data_dir: DataDir) -> list[Ed25519PublicKey]:
    """The marketplace keys that exam packages and the marketplace's documents are checked by."""
    return [key.public_key for key in trusted_key_list(data_dir)]


def trusted_key_list(data_dir: DataDir) -> list[TrustedKey]:
    """The trusted keys with their sources, the embedded sandbox's last."""
    keys = _kept_keys(data_dir)
    embedded = data_dir.root / EMBEDDED_SANDBOX_KEY
    if embedded.is_file():
        try:
            public = public_key_from_pem(embedded.read_bytes(), str(embedded))
        except (OSError, InputError):
            public = None  # a half-made sandbox folder: nothing is trusted from it
        if public is not None and all(k.key_id != key_id(public) for k in keys):
            keys.append(TrustedKey(key_id(public), public, _("the embedded sandbox")))
    return keys


def trust_keys(data_dir: DataDir, pems: list[str], *, source: str) -> list[str]:
    """Add marketplace keys (PEM) from `source`; returns the ids of the keys that were new."""
    kept = _kept_keys(data_dir)
    known = {k.key_id for k in kept}
    added = []
    for pem in pems:
        public = public_key_from_pem(pem.encode("ascii", "replace"), source)
        if key_id(public) not in known:
            kept.append(TrustedKey(key_id(public), public, source))
            known.add(key_id(public))
            added.append(key_id(public))
    if added:
        document = {
            "keys": [
                {
                    "key_id": k.key_id,
                    "public_key": k.public_key.public_bytes(
                        serialization.Encoding.PEM,
                        serialization.PublicFormat.SubjectPublicKeyInfo,
                    ).decode("ascii"),
                    "source": k.source,
                }
                for k in kept
            ]
        }
        path = data_dir.ensure().root / KEYS_FILE
        try:
            write_atomically(path, json.dumps(document, indent=2).encode("utf-8"))
        except OSError as exc:
            raise StorageError(
                _("The trusted keys cannot be written to {path}: {problem}").format(
                    path=path, problem=exc.strerror or exc
                )
            ) from exc
    return added


def _kept_keys(data_dir: DataDir) -> list[TrustedKey]:
    path = data_dir.root / KEYS_FILE
    if not path.exists():
        return []
    try:
        entries = json.loads(path.read_bytes())["keys"]
        return [
            TrustedKey(
                str(e["key_id"]),
                public_key_from_pem(str(e["public_key"]).encode("ascii"), str(path)),
                str(e["source"]),
            )
            for e in entries
        ]
    except (OSError, ValueError, KeyError, TypeError, InputError) as exc:
        raise StorageError(
            _(
                "The trusted marketplace keys in {path} cannot be read; delete the file and sync "
                "again to fetch them."
            ).format(path=path)
        ) from exc


def import_package(store: Store, path: Path) -> int:
    """Check the package's signature, keep a copy in the data dir (whole or not at all) and
    record it; returns the exam's row id. The same package again changes nothing."""
    keys = trusted_keys(store.data_dir)
    header = read_header(path, trusted_keys=keys)
    if header.expired():
        raise _expired(path, header)
    folder = exams_folder(store.data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temp_name = tempfile.mkstemp(prefix=".import.", suffix=".part", dir=folder)
    except OSError as exc:
        raise _unwritable(folder, exc) from exc
    temp = Path(temp_name)
    try:
        sha256 = _copy(path, handle, temp, folder)
        copied = read_header(temp, trusted_keys=keys)  # the copy kept is the one checked
        if copied != header:
            raise DamagedPackageError(
                _("The exam package {path} changed while it was being imported.").format(path=path)
            )
        return _record(store, header, temp, sha256)
    finally:
        temp.unlink(missing_ok=True)


def _copy(source: Path, handle: int, temp: Path, folder: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(source, "rb") as src, os.fdopen(handle, "wb") as out:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)
    except OSError as exc:
        raise _unwritable(folder, exc) from exc
    return digest.hexdigest()


def _record(store: Store, header: ExamHeader, temp: Path, sha256: str) -> int:
    target = exams_folder(store.data_dir) / f"{header.exam_id}-{header.version}.aicexam"
    language = current_locale().split("_")[0]
    with store.session() as session, session.begin():
        row = session.scalars(
            select(Exam).where(Exam.exam_id == header.exam_id, Exam.version == header.version)
        ).first()
        if row is not None and row.package_sha256 == sha256 and Path(row.package_path).is_file():
            return row.id
        if row is not None and row.package_sha256 != sha256:
            sat = session.scalars(select(Sitting.id).where(Sitting.exam_pk == row.id)).first()
            if sat is not None:
                raise InputError(
                    _(
                        "Another package of {exam} {version} is already here and has sittings; "
                        "it is kept, and this one is not imported."
                    ).format(exam=header.exam_id, version=header.version)
                )
        if row is None:
            row = Exam(exam_id=header.exam_id, version=header.version, failed_unlocks=0)
            session.add(row)
        row.title = header.title_in(language)[:300]
        row.languages = list(header.languages)
        row.duration_s = header.duration_s
        row.pass_mark = header.pass_mark
        row.practice = header.practice
        row.expires_at = header.expires_at
        row.package_path = str(target)
        row.package_sha256 = sha256
        row.imported_at = datetime.now(UTC)
        session.flush()
        try:
            os.replace(temp, target)  # before the commit: a row never names a missing file
        except OSError as exc:
            raise _unwritable(target.parent, exc) from exc
        return row.id


def set_practice_code(store: Store, exam_pk: int, code: str) -> None:
    """Keep the code the marketplace lists for a practice exam, so it opens without asking."""
    with store.session() as session, session.begin():
        session.execute(
            update(Exam)
            .where(Exam.id == exam_pk, Exam.practice.is_(True))
            .values(practice_code=code)
        )


def unlock(store: Store, exam_pk: int, code: str) -> OpenedExam:
    """Open the kept package with `code`, counting wrong codes (see the module's docstring).

    A practice exam whose code the marketplace listed opens with that code when none is typed;
    that is no guess, so it is not counted."""
    with store.session() as session:
        row = session.get(Exam, exam_pk)
        if row is None:
            raise InputError(_("There is no exam {id} on this computer.").format(id=exam_pk))
        stored = row.practice_code if row.practice else None
        path, expected = Path(row.package_path), (row.exam_id, row.version)
    if stored and not code.strip():
        return _unlock_with_stored(store, path, stored, expected)
    with store.session() as session, session.begin():
        row = session.get(Exam, exam_pk)
        if row is None:
            raise InputError(_("There is no exam {id} on this computer.").format(id=exam_pk))
        counted = session.execute(
            update(Exam)
            .where(Exam.id == exam_pk, Exam.failed_unlocks < MAX_ATTEMPTS)
            .values(failed_unlocks=Exam.failed_unlocks + 1)
            .execution_options(synchronize_session=False)
        )
        if counted.rowcount != 1:  # type: ignore[attr-defined]
            raise _locked(row.title)
        path, tried = Path(row.package_path), row.failed_unlocks + 1
        expected, title = (row.exam_id, row.version), row.title
    try:
        opened = open_package(path, code=code, trusted_keys=trusted_keys(store.data_dir))
    except WrongCodeError:
        left = MAX_ATTEMPTS - tried
        if left <= 0:
            raise _locked(title) from None
        raise WrongCodeError(
            ngettext(
                "The sitting code is not right. {n} more try is allowed on this computer.",
                "The sitting code is not right. {n} more tries are allowed on this computer.",
                left,
            ).format(n=left)
        ) from None
    except BaseException:
        _set_failures(store, exam_pk, tried - 1)  # not the code's fault: the try is given back
        raise
    _set_failures(store, exam_pk, 0)
    if (opened.header.exam_id, opened.header.version) != expected:
        raise DamagedPackageError(
            _("The file {path} no longer holds the exam it was imported as.").format(path=path)
        )
    return opened


def _unlock_with_stored(
    store: Store, path: Path, code: str, expected: tuple[str, str]
) -> OpenedExam:
    """Open a practice package with the code kept from the marketplace's list."""
    try:
        opened = open_package(path, code=code, trusted_keys=trusted_keys(store.data_dir))
    except WrongCodeError:
        raise WrongCodeError(
            _(
                "The practice code the marketplace gave for this exam does not open it. Sync "
                "again to fetch the current one."
            )
        ) from None
    if (opened.header.exam_id, opened.header.version) != expected:
        raise DamagedPackageError(
            _("The file {path} no longer holds the exam it was imported as.").format(path=path)
        )
    return opened


def reset_attempts(store: Store, exam_pk: int) -> None:
    """Clear the wrong codes counted on a package: the proctor's answer to a locked one."""
    with store.session() as session:
        if session.get(Exam, exam_pk) is None:
            raise InputError(_("There is no exam {id} on this computer.").format(id=exam_pk))
    _set_failures(store, exam_pk, 0)


def attempts_left(store: Store, exam_pk: int) -> int:
    """How many wrong codes may still be tried on the package here."""
    with store.session() as session:
        row = session.get(Exam, exam_pk)
        if row is None:
            raise InputError(_("There is no exam {id} on this computer.").format(id=exam_pk))
        return max(0, MAX_ATTEMPTS - row.failed_unlocks)


def _set_failures(store: Store, exam_pk: int, count: int) -> None:
    with store.session() as session, session.begin():
        session.execute(
            update(Exam)
            .where(Exam.id == exam_pk)
            .values(failed_unlocks=max(0, count))
            .execution_options(synchronize_session=False)
        )


def _locked(what: str) -> LockedPackageError:
    return LockedPackageError(
        ngettext(
            "{exam} is locked on this computer after {n} wrong sitting code. Ask the proctor: "
            "they can check the code and clear the lock with `aic-portal exam reset-attempts`.",
            "{exam} is locked on this computer after {n} wrong sitting codes. Ask the proctor: "
            "they can check the code and clear the lock with `aic-portal exam reset-attempts`.",
            MAX_ATTEMPTS,
        ).format(exam=what, n=MAX_ATTEMPTS)
    )


def _expired(path: Path, header: ExamHeader) -> ExpiredPackageError:
    return ExpiredPackageError(
        _(
            "The exam package {path} expired on {date}; ask the proctor or the marketplace for a "
            "current one."
        ).format(path=path, date=format_date(header.expires_at.astimezone().date(), length="long"))
    )


def _unwritable(folder: Path, exc: OSError) -> StorageError:
    return StorageError(
        _("The exam package cannot be kept in {path}: {problem}").format(
            path=folder, problem=exc.strerror or exc
        )
    )
