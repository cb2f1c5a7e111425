"""`.aicexam` packages: round trip, and every way a package can be wrong fails clearly."""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from portal.errors import InputError
from portal.exams.package import (
    MAGIC,
    DamagedPackageError,
    ExpiredPackageError,
    PackageError,
    UntrustedPackageError,
    WrongCodeError,
    build_package,
    new_sitting_code,
    normalise_code,
    open_package,
    read_header,
)
from tests.exams.conftest import CODE, FAST_KDF, BuildPackage
from tests.exams.samples import MEDIA, sample_exam

SECRET_WORDS = [b"Which algorithm", b"Ed25519", b"outbox", b"not really a picture"]


def test_round_trip_keeps_content_and_media_and_drops_certification_keys(
    make_package: BuildPackage, market_key: Ed25519PrivateKey
) -> None:
    path = make_package()

    opened = open_package(path, code=CODE, trusted_keys=[market_key.public_key()])

    assert opened.content == sample_exam().without_keys()
    assert all(item.scoring is None and item.feedback is None for item in opened.content.items())
    assert opened.media == MEDIA
    assert opened.header.exam_id == "aic-sample" and not opened.header.practice


def test_practice_packages_carry_their_keys(
    make_package: BuildPackage, market_key: Ed25519PrivateKey
) -> None:
    path = make_package(sample_exam(practice=True))

    opened = open_package(path, code=CODE, trusted_keys=[market_key.public_key()])

    assert opened.content == sample_exam(practice=True)
    assert opened.content.item("q1").scoring is not None


def test_nothing_of_the_content_is_readable_in_the_file(make_package: BuildPackage) -> None:
    data = make_package().read_bytes()

    for words in SECRET_WORDS:
        assert words not in data


def test_header_is_readable_without_the_code(
    make_package: BuildPackage, market_key: Ed25519PrivateKey
) -> None:
    expires = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    header = read_header(make_package(expires_at=expires), trusted_keys=[market_key.public_key()])

    assert header.title == {"en": "Sample exam", "fr": "Examen d’essai"}
    assert header.languages == ["en", "fr"]
    assert (header.duration_s, header.pass_mark, header.questions) == (600, 0.5, 2)
    assert header.expires_at == expires
    assert header.kdf.n == FAST_KDF


def test_codes_are_read_as_people_type_them(
    make_package: BuildPackage, market_key: Ed25519PrivateKey
) -> None:
    path = make_package()

    for typed in ("7k4q m2xd p9tb", " 7K4QM2XDP9TB ", "７K4Q-M2XD-P9TB"):
        open_package(path, code=typed, trusted_keys=[market_key.public_key()])
    assert normalise_code("ab-cd ef_gh") == "ABCDEFGH"
    assert len(normalise_code(new_sitting_code())) == 15


def test_wrong_code_says_so_and_shows_nothing(
    make_package: BuildPackage, market_key: Ed25519PrivateKey
) -> None:
    path = make_package()

    with pytest.raises(WrongCodeError, match="does not open") as caught:
        open_package(path, code="7K4Q-M2XD-P9TC", trusted_keys=[market_key.public_key()])
    assert "Which algorithm" not in caught.value.message


def test_a_changed_byte_anywhere_is_caught_before_the_code(
    make_package: BuildPackage, market_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    original = make_package().read_bytes()
    (length,) = struct.unpack(">I", original[len(MAGIC) : len(MAGIC) + 4])
    header_end = len(MAGIC) + 4 + length
    # every byte of the magic, the length, the header, the signature, and a spread of the content
    places = list(range(header_end + 64)) + list(range(header_end + 64, len(original), 7))
    places.append(len(original) - 1)  # the last byte of the GCM tag
    target = tmp_path / "changed.aicexam"
    for at in places:
        changed = bytearray(original)
        changed[at] ^= 0x01
        target.write_bytes(bytes(changed))
        with pytest.raises(PackageError) as caught:
            # the right code: the change alone must be what fails
            open_package(target, code=CODE, trusted_keys=[market_key.public_key()])
        assert not isinstance(caught.value, WrongCodeError), at
        assert isinstance(caught.value, DamagedPackageError | UntrustedPackageError), at
        with pytest.raises(PackageError):
            read_header(target, trusted_keys=[market_key.public_key()])


def test_a_signed_header_cannot_be_moved_onto_other_content(
    make_package: BuildPackage, market_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    first = make_package(name="a.aicexam").read_bytes()
    second = make_package(sample_exam(exam_id="other-exam"), name="b.aicexam").read_bytes()
    (length,) = struct.unpack(">I", first[len(MAGIC) : len(MAGIC) + 4])
    (length2,) = struct.unpack(">I", second[len(MAGIC) : len(MAGIC) + 4])
    swapped = first[: len(MAGIC) + 4 + length + 64] + second[len(MAGIC) + 4 + length2 + 64 :]
    target = tmp_path / "swapped.aicexam"
    target.write_bytes(swapped)

    with pytest.raises(DamagedPackageError):
        open_package(target, code=CODE, trusted_keys=[market_key.public_key()])


@pytest.mark.parametrize("keep", [0, 5, 12, 40, -1, -17, -200])
def test_truncated_packages_are_damaged(
    make_package: BuildPackage, market_key: Ed25519PrivateKey, tmp_path: Path, keep: int
) -> None:
    data = make_package().read_bytes()
    target = tmp_path / "cut.aicexam"
    target.write_bytes(data[:keep])

    with pytest.raises(DamagedPackageError, match=r"cut short|not an exam package"):
        open_package(target, code=CODE, trusted_keys=[market_key.public_key()])


def test_bytes_added_at_the_end_are_refused(
    make_package: BuildPackage, market_key: Ed25519PrivateKey
) -> None:
    path = make_package()
    path.write_bytes(path.read_bytes() + b"\0")

    with pytest.raises(DamagedPackageError, match="after its end"):
        read_header(path, trusted_keys=[market_key.public_key()])


def test_another_key_is_not_trusted(make_package: BuildPackage) -> None:
    stranger = Ed25519PrivateKey.generate()

    with pytest.raises(UntrustedPackageError, match="not a marketplace key"):
        read_header(make_package(), trusted_keys=[stranger.public_key()])


def test_a_forged_signature_with_the_trusted_key_id_is_damaged(
    make_package: BuildPackage, market_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    forger = Ed25519PrivateKey.generate()
    genuine = make_package().read_bytes()
    forged = make_package(key=forger, name="forged.aicexam").read_bytes()
    (length,) = struct.unpack(">I", forged[len(MAGIC) : len(MAGIC) + 4])
    (glen,) = struct.unpack(">I", genuine[len(MAGIC) : len(MAGIC) + 4])
    # the forger's header, claiming the marketplace's key id, signed by the forger
    header = forged[len(MAGIC) + 4 : len(MAGIC) + 4 + length]
    genuine_id = genuine[len(MAGIC) + 4 : len(MAGIC) + 4 + glen].split(b'"key_id":"')[1][:64]
    forged_id = header.split(b'"key_id":"')[1][:64]
    header = header.replace(forged_id, genuine_id)
    body = forged[len(MAGIC) + 4 + length :]
    target = tmp_path / "claims.aicexam"
    target.write_bytes(MAGIC + struct.pack(">I", len(header)) + header + body)

    with pytest.raises(DamagedPackageError, match="signature does not match"):
        read_header(target, trusted_keys=[market_key.public_key()])


def test_expired_packages_do_not_open_but_their_header_reads(
    make_package: BuildPackage, market_key: Ed25519PrivateKey
) -> None:
    path = make_package(expires_at=datetime.now(UTC) + timedelta(hours=1))
    later = datetime.now(UTC) + timedelta(hours=2)

    with pytest.raises(ExpiredPackageError, match="expired on"):
        open_package(path, code=CODE, trusted_keys=[market_key.public_key()], now=later)
    assert read_header(path, trusted_keys=[market_key.public_key()]).expired(later)


def test_the_expiry_date_is_written_in_the_users_language(
    make_package: BuildPackage, market_key: Ed25519PrivateKey
) -> None:
    from portal import i18n

    path = make_package(expires_at=datetime(2026, 3, 4, 12, tzinfo=UTC))
    later = datetime(2026, 3, 5, 12, tzinfo=UTC)
    keys = [market_key.public_key()]
    with pytest.raises(ExpiredPackageError) as caught:
        open_package(path, code=CODE, trusted_keys=keys, now=later)
    assert "expired on March 4, 2026;" in caught.value.message
    i18n.set_locale("fr")
    with pytest.raises(ExpiredPackageError) as caught:
        open_package(path, code=CODE, trusted_keys=keys, now=later)
    assert "4 mars 2026" in caught.value.message and "2026-03-04" not in caught.value.message


def test_not_a_package_at_all(tmp_path: Path, market_key: Ed25519PrivateKey) -> None:
    path = tmp_path / "notes.aicexam"
    path.write_text("hello")

    with pytest.raises(DamagedPackageError, match="is not an exam package"):
        read_header(path, trusted_keys=[market_key.public_key()])
    with pytest.raises(PackageError, match="cannot be read"):
        read_header(tmp_path / "missing.aicexam", trusted_keys=[market_key.public_key()])


def test_build_refuses_short_codes_missing_media_and_naive_times(
    market_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    common = dict(signing_key=market_key, out=tmp_path / "x.aicexam", kdf_n=FAST_KDF)
    with pytest.raises(InputError, match="at least 8"):
        build_package(sample_exam(), code="abc-12", expires_at=soon, media=MEDIA, **common)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"diagram\.png"):
        build_package(sample_exam(), code=CODE, expires_at=soon, **common)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="time zone"):
        build_package(
            sample_exam(),
            code=CODE,
            expires_at=soon.replace(tzinfo=None),
            media=MEDIA,
            **common,  # type: ignore[arg-type]
        )
    assert not (tmp_path / "x.aicexam").exists()
