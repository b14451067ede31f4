"""Errors become the one JSON shape, with the right status, and never a stack trace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import Engine

from claimbridge import errors
from claimbridge.api.app import create_app
from claimbridge.clock import SystemClock
from claimbridge.config import load_settings
from claimbridge.crypto.keyring import Keyring
from claimbridge.crypto.providers.local import MIN_SCRYPT_N, LocalKeyProvider

SECRET = "Jane Q. Patient 1961-04-12"


class Body(BaseModel):
    amount_cents: int


@pytest.fixture(scope="module")
def app(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """One app per backend for the module: the tests only send it requests."""
    data_dir = tmp_path_factory.mktemp("data")
    settings = load_settings(data_dir, max_body_bytes=4096)
    provider = LocalKeyProvider.create(
        data_dir / "root.key", "a test passphrase", scrypt_n=MIN_SCRYPT_N
    )
    keyring = Keyring(provider, clock=SystemClock())
    app = create_app(settings, engine=engine, keyring=keyring)

    @app.get("/api/v1/test/boom")
    def boom() -> None:
        raise RuntimeError(f"crashed while handling {SECRET}")

    @app.get("/api/v1/test/missing")
    def missing() -> None:
        raise errors.NotFound(detail=f"no row for {SECRET}")

    @app.get("/api/v1/test/bad-field")
    def bad_field() -> None:
        raise errors.ValidationFailed("NPI check digit is wrong.", where="billing_provider.npi")

    @app.get("/api/v1/test/store-down")
    def store_down() -> None:
        raise errors.StorageError(detail="connection refused")

    @app.post("/api/v1/test/echo")
    def echo(body: Body) -> Body:
        return body

    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, base_url="https://testserver") as client:
        yield client


def test_unexpected_error_is_500_with_generic_message_and_no_trace(client: TestClient) -> None:
    response = client.get("/api/v1/test/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "internal_error",
            "message": "The request could not be completed.",
            "where": None,
        }
    }
    assert "Traceback" not in response.text and SECRET not in response.text


def test_not_found_keeps_detail_out_of_the_body(client: TestClient) -> None:
    response = client.get("/api/v1/test/missing")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Not found."
    assert SECRET not in response.text


def test_input_errors_say_where(client: TestClient) -> None:
    response = client.get("/api/v1/test/bad-field")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "validation_failed",
        "message": "NPI check digit is wrong.",
        "where": "billing_provider.npi",
    }


def test_storage_errors_are_503(client: TestClient) -> None:
    response = client.get("/api/v1/test/store-down")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"


def test_request_validation_names_the_field_without_echoing_the_value(client: TestClient) -> None:
    response = client.post("/api/v1/test/echo", json={"amount_cents": SECRET})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert error["where"] == "body.amount_cents"
    assert SECRET not in response.text


def test_malformed_json_is_a_clear_error(client: TestClient) -> None:
    response = client.post(
        "/api/v1/test/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_failed"


def test_streamed_body_over_the_limit_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"x" * 1024

    response = client.post("/api/v1/test/echo", content=chunks())
    assert response.status_code == 413
    assert response.json()["error"]["where"] == "body"
