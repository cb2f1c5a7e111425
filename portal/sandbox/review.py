"""What the marketplace checks in a submitted version: the partner app's own safe reader,
signature check and lint, run on the uploaded bytes as hostile input."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from portal.errors import InputError
from portal.plugins.attestation import file_sha256, signature_path, verify_package
from portal.plugins.dsse import MAX_ENVELOPE_BYTES, parse_envelope, public_key_from_pem
from portal.plugins.findings import Severity
from portal.plugins.lint import lint_plugin
from portal.plugins.manifest import StandardPlugin
from portal.plugins.pack import SUMS_NAME
from portal.plugins.safezip import extract_archive
from portal.sandbox.problems import ProblemError

SHOWN_FINDINGS = 5  # in the detail line; `errors` lists them all


@dataclass(frozen=True)
class Checked:
    """A submission that passed: its manifest and the package's SHA-256."""

    manifest: StandardPlugin
    sha256: str


def check_submission(
    package_upload: Path,
    signature_upload: Path,
    *,
    name: str,
    version: str,
    keys: Mapping[str, str],
) -> Checked:
    """Verify a package and its signature against the organisation's `keys` (key id → PEM),
    the submitted name and version, and lint; any failure is a 422 that says what failed."""
    with tempfile.TemporaryDirectory(prefix="aic-review-") as work:
        folder = Path(work)
        package = folder / f"{name}-{version}.aicpkg"  # a name the messages can show
        signature = signature_path(package)
        shutil.copyfile(package_upload, package)
        shutil.copyfile(signature_upload, signature)
        try:
            checked = _verify(package, signature, name=name, version=version, keys=keys)
            source = folder / "source"
            extract_archive(package, source)
            (source / SUMS_NAME).unlink()  # the package's checksum list, not a plugin file
            found = lint_plugin(source)
        except InputError as exc:  # every refusal of the reader and the checks is one
            raise ProblemError(422, exc.message.replace(str(folder) + os.sep, "")) from exc
    errors = [f for f in found if f.rule.severity is Severity.ERROR]
    if errors:
        listed = "; ".join(
            f"{f.rule.id} {f.file or '-'}{f':{f.line}' if f.line else ''}: {f.message}"
            for f in errors[:SHOWN_FINDINGS]
        )
        more = len(errors) - SHOWN_FINDINGS
        raise ProblemError(
            422,
            f"The package has {len(errors)} lint error(s): {listed}"
            + (f"; and {more} more." if more > 0 else "."),
            errors=[
                {"rule": f.rule.id, "message": f.message, "file": f.file, "line": f.line}
                for f in errors
            ],
        )
    return checked


def _verify(
    package: Path, signature: Path, *, name: str, version: str, keys: Mapping[str, str]
) -> Checked:
    if signature.stat().st_size > MAX_ENVELOPE_BYTES:  # before reading it: it is untrusted
        raise ProblemError(422, "The signature upload is far larger than any signature.")
    envelope = parse_envelope(signature.read_bytes(), signature.name)
    signer = next((kid for kid, _sig in envelope.signatures if kid in keys), None)
    if signer is None:
        raise ProblemError(
            422,
            f"The package is signed with key {envelope.signatures[0][0]}, which your "
            "organisation has not registered; keys are registered by `aic-portal plugin "
            "keygen` at the next sync.",
        )
    public = public_key_from_pem(keys[signer].encode("ascii"), f"key {signer}")
    verified = verify_package(package, public, signature=signature)
    meta = verified.manifest.metadata
    if meta.name != name:
        raise ProblemError(
            422, f"The package holds the plugin {meta.name!r}, not {name!r} it was submitted as."
        )
    if meta.version != version:
        raise ProblemError(
            422,
            f"The package holds version {meta.version} of {name!r}, not {version} it was "
            "submitted as.",
        )
    return Checked(verified.manifest, file_sha256(package))
