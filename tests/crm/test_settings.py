"""Secrets made once per installation; settings read as the servers read them."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values
from typer.testing import CliRunner

from crm import settings
from crm.cli import app
from crm.settings import GENERATED_SECRETS, Settings, write_missing_secrets


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    settings.get_settings.cache_clear()
    yield
    settings.get_settings.cache_clear()


def test_secrets_are_random_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secrets.env"
    assert write_missing_secrets(path) == list(GENERATED_SECRETS)
    first = dotenv_values(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len({first[name] for name in GENERATED_SECRETS}) == len(GENERATED_SECRETS)
    assert all(len(first[name] or "") >= 40 for name in GENERATED_SECRETS)

    assert write_missing_secrets(path) == []
    assert dotenv_values(path) == first
    assert write_missing_secrets(tmp_path / "other.env") == list(GENERATED_SECRETS)
    assert dotenv_values(tmp_path / "other.env") != first


def test_a_missing_or_empty_secret_is_added(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    path.write_text("SIGNING_SECRET=kept\nRASA_TOKEN=\n", encoding="utf-8")
    assert write_missing_secrets(path) == [
        "SESSION_SECRET",
        "RASA_TOKEN",
        "ACTIONS_TOKEN",
    ]
    values = dotenv_values(path)
    assert values["SIGNING_SECRET"] == "kept" and values["RASA_TOKEN"]


def test_settings_read_the_file_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secrets.env"
    write_missing_secrets(path)
    values = dotenv_values(path)
    for name in GENERATED_SECRETS:
        monkeypatch.delenv(name, raising=False)
    read = Settings(_env_file=(path,))  # type: ignore[call-arg]
    assert read.rasa_token == values["RASA_TOKEN"]
    assert read.signing_secret == values["SIGNING_SECRET"]
    monkeypatch.setenv("RASA_TOKEN", "from-the-environment")
    assert Settings(_env_file=(path,)).rasa_token == "from-the-environment"  # type: ignore[call-arg]


def test_setting_prints_what_the_app_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_TOKEN", "t0ken")
    monkeypatch.setenv("RASA_URL", "http://10.1.2.3:5005")
    runner = CliRunner()
    assert runner.invoke(app, ["setting", "rasa_token"]).output == "t0ken\n"
    assert (
        runner.invoke(app, ["setting", "RASA-URL"]).output == "http://10.1.2.3:5005\n"
    )


def test_an_unknown_setting_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["setting", "rasa_tokn"])
    assert result.exit_code == 2
    assert "no setting 'rasa_tokn'" in result.output and "rasa_token" in result.output
