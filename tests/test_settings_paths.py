"""Data dirs and settings: two data dirs share nothing; a bad settings file loses nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.errors import InputError, StorageError
from portal.paths import DataDir, default_data_root, resolve_data_dir
from portal.settings import Settings, load_settings, save_settings, validate_marketplace_url


def test_every_file_lives_under_the_data_dir(tmp_path: Path) -> None:
    data = DataDir(tmp_path / "d").ensure()
    for path in (data.database, data.settings, data.log_file, data.keys, data.backups):
        assert path.is_relative_to(data.root)
    assert data.keys.stat().st_mode & 0o777 == 0o700


def test_two_data_dirs_have_distinct_keyring_services(tmp_path: Path) -> None:
    one, two = DataDir(tmp_path / "one"), DataDir(tmp_path / "two")
    assert one.keyring_service != two.keyring_service
    assert DataDir(tmp_path / "one").keyring_service == one.keyring_service


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_data_dir(None).root == default_data_root().resolve()
    assert str(default_data_root()).startswith(str(tmp_path / "home"))
    monkeypatch.setenv("AIC_PORTAL_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(None).root == tmp_path / "env"
    assert resolve_data_dir(tmp_path / "given").root == tmp_path / "given"


def test_a_file_in_the_way_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(StorageError, match="blocker cannot be used"):
        DataDir(blocker).ensure()


def test_settings_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    wanted = Settings(language="fr", marketplace_url="https://market.example.com")
    save_settings(path, wanted)
    assert load_settings(path) == (wanted, None)
    assert not path.with_name("settings.json.tmp").exists()


def test_missing_settings_give_defaults(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "nope.json") == (Settings(), None)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\xff\xfe"])
def test_unreadable_settings_are_kept_aside(tmp_path: Path, content: str) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(content.encode("latin-1"))
    settings, problem = load_settings(path)
    assert settings == Settings()
    assert problem is not None and str(path) in problem
    [aside] = tmp_path.glob("settings.json.unreadable-*")
    assert aside.read_bytes() == content.encode("latin-1")
    assert not path.exists()


def test_a_second_unreadable_file_does_not_overwrite_the_first(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{first")
    load_settings(path)
    for aside in tmp_path.glob("settings.json.unreadable-*"):
        aside.rename(aside.with_name("settings.json.unreadable-20000101T000000Z"))
    path.write_text("{second")
    load_settings(path)
    kept = sorted(p.read_text() for p in tmp_path.glob("settings.json.unreadable-*"))
    assert kept == ["{first", "{second"]


def test_a_settings_file_that_cannot_be_read_is_left_in_place(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.mkdir()
    settings, problem = load_settings(path)
    assert settings == Settings()
    assert problem is not None and "cannot be read" in problem
    assert path.is_dir()


def test_saving_to_an_unwritable_place_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="could not be saved"):
        save_settings(tmp_path / "missing" / "settings.json", Settings())


def test_unknown_values_fall_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"language": "xx", "marketplace_url": "http://plain.example"}))
    assert load_settings(path) == (Settings(), None)


@pytest.mark.parametrize(
    "url",
    [
        "http://market.example.com",
        "market.example.com",
        "https://",
        "https://[x",
        "https://h:99999",
    ],
)
def test_marketplace_url_must_be_https_with_a_host(url: str) -> None:
    with pytest.raises(InputError, match="must start with https://"):
        validate_marketplace_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://ada:s3cret@m.example.com",
        "https://m.example.com/?token=abc",
        "https://m.example.com/#x",
    ],
)
def test_marketplace_url_carries_no_credentials(url: str) -> None:
    with pytest.raises(InputError, match="must not contain") as caught:
        validate_marketplace_url(url)
    assert "s3cret" not in caught.value.message and "abc" not in caught.value.message


def test_a_malformed_address_in_settings_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"language": "fr", "marketplace_url": "https://[x"}))
    assert load_settings(path) == (Settings(language="fr"), None)


def test_marketplace_url_is_normalised() -> None:
    assert validate_marketplace_url(" https://m.example.com/ ") == "https://m.example.com"


def test_pins_that_cannot_match_keep_pinning_on(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"pins": ["not-a-pin", 42]}))
    settings, problem = load_settings(path)
    assert problem is None
    assert settings.pins == ("not-a-pin", "42")  # no key matches them: every connection refused


def test_a_bad_proxy_address_is_shown_without_its_password() -> None:
    from portal.settings import validate_proxy

    with pytest.raises(InputError) as refused:
        validate_proxy("socks5://ada:hunter2@proxy.example:1080")
    assert "hunter2" not in refused.value.message and "ada" not in refused.value.message
    with pytest.raises(InputError) as refused:
        validate_proxy("http://ada:hunter2@proxy.example:3128")
    assert "hunter2" not in refused.value.message
