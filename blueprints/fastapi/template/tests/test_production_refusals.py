"""What production refuses (issue 17, item 8): settings that expose it, oversized bodies,
loosely typed numbers, and passwords an attacker tries first."""

import secrets

import pytest
from pydantic import ValidationError

from app.auth.messages import APP_TITLE
from app.core.config import Settings, production_problems, settings
from app.main import app, lifespan

STRONG = secrets.token_urlsafe(48)


@pytest.mark.parametrize("secret", ["a" * 32, "ab" * 40, "abcd" * 10])
def test_long_but_predictable_secrets_are_refused_outside_development(secret):
    with pytest.raises(ValidationError, match="predictable"):
        Settings(environment="production", secret_key=secret, database_url="postgresql://h/db")
    Settings(environment="development", secret_key=secret)


def test_a_random_secret_is_accepted():
    Settings(environment="production", secret_key=STRONG)


def test_production_refuses_a_wildcard_origin_and_sqlite():
    unsafe = Settings(environment="production", secret_key=STRONG, cors_origins="*", database_url="")
    problems = production_problems(unsafe)
    assert any("CORS_ORIGINS is *" in p for p in problems)
    assert any("SQLite" in p for p in problems)
    safe = Settings(
        environment="production",
        secret_key=STRONG,
        cors_origins="https://app.example.com",
        database_url="postgresql://u:p@db/app",
    )
    assert production_problems(safe) == []
    # Outside production both are fine (local runs use SQLite).
    assert production_problems(Settings(cors_origins="*", database_url="")) == []


async def test_the_server_does_not_start_with_them(monkeypatch):
    monkeypatch.setattr(settings, "environment", "production")
    monkeypatch.setattr(settings, "cors_origins", ["*"])
    with pytest.raises(RuntimeError, match="Refusing to serve in production: CORS_ORIGINS"):
        async with lifespan(app):
            pass


async def test_a_body_over_the_documented_size_is_413(client):
    assert settings.max_body_bytes == 1_048_576
    big = b'{"refresh_token": "' + b"x" * settings.max_body_bytes + b'"}'
    declared = await client.post("/auth/refresh", content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413
    assert "larger than 1048576 bytes" in declared.json()["detail"]
    assert declared.headers["x-content-type-options"] == "nosniff"

    async def chunks():
        for _ in range(3):
            yield b"x" * (settings.max_body_bytes // 2)

    streamed = await client.post("/auth/refresh", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    small = await client.post("/auth/refresh", json={"refresh_token": "x" * 43})
    assert small.status_code == 401


def test_a_password_with_the_apps_name_is_refused():
    from app.auth.passwords import names_the_app

    name = "".join(char for char in APP_TITLE if char.isalnum())
    if len(name) < 4:
        pytest.skip("the app's name is too short to look for")
    assert names_the_app(f"my {APP_TITLE.upper()} password 1")
    assert names_the_app(f"{name.lower()}2024!")
    assert not names_the_app("correct horse battery staple")


def test_numbers_and_booleans_must_be_json_numbers_and_booleans():
    """"10" was accepted for an int and true stored as 1: every create schema is strict."""
    import importlib
    import pkgutil
    import typing

    import app.schemas as schemas

    checked = 0
    for module_info in pkgutil.iter_modules(schemas.__path__):
        module = importlib.import_module(f"app.schemas.{module_info.name}")
        for model in vars(module).values():
            if not (isinstance(model, type) and model.__name__.endswith("Create")):
                continue
            for name, field in model.model_fields.items():
                kinds = set(typing.get_args(field.annotation)) | {field.annotation}
                for kind, loose in ((bool, "true"), (int, "10"), (float, "1.5")):
                    if kind not in kinds or (kind is int and bool in kinds):
                        continue
                    alias = field.alias or name
                    with pytest.raises(ValidationError) as caught:
                        model.model_validate({alias: loose if kind is not int else "10"})
                    assert any(error["loc"] == (alias,) for error in caught.value.errors()), alias
                    if kind is int:
                        with pytest.raises(ValidationError) as caught:
                            model.model_validate({alias: True})
                        assert any(error["loc"] == (alias,) for error in caught.value.errors())
                    checked += 1
    if not checked:
        pytest.skip("no object in this spec has a number, a flag or a reference")
