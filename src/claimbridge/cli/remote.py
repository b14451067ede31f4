"""Talking to a claimbridge server from the command line, as a signed-in principal.

A practice's people are not on the server: they reach it over HTTPS with
an API token (``--token`` or ``CLAIMBRIDGE_TOKEN``). Certificate checks are
never switched off; ``--ca`` names the server's own certificate to trust
(the embedded default's is self-signed).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from claimbridge.errors import (
    AccessDenied,
    ClaimbridgeError,
    ConfigError,
    NotFound,
    StorageError,
    Unauthenticated,
    ValidationFailed,
)

ServerOption = Annotated[
    str,
    typer.Option("--server", envvar="CLAIMBRIDGE_SERVER", help="The server's https:// URL."),
]
TokenOption = Annotated[
    str,
    typer.Option(
        "--token", envvar="CLAIMBRIDGE_TOKEN", help="An API token (cbt_...).", show_default=False
    ),
]
CaOption = Annotated[
    Path | None,
    typer.Option("--ca", help="A certificate (PEM) to trust for the server, e.g. its own."),
]

TIMEOUT_SECONDS = 30.0


class ServerUnreachable(StorageError):
    code = "server_unreachable"
    public_message = "The server could not be reached."


@dataclass(frozen=True, slots=True)
class Remote:
    server: str
    token: str
    ca: Path | None = None

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str) -> dict[str, Any]:
        return self._call("POST", path)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        if not self.server.startswith("https://"):
            raise ConfigError("The server URL must start with https://.", where="--server")
        url = self.server.rstrip("/") + "/api/v1" + path
        try:
            with httpx.Client(verify=self._tls(), timeout=TIMEOUT_SECONDS) as client:
                response = client.request(
                    method, url, headers={"Authorization": f"Bearer {self.token}"}, **kwargs
                )
        except httpx.HTTPError as error:
            raise ServerUnreachable(where=self.server, detail=type(error).__name__) from None
        return _answer(response)

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


_ERRORS: dict[int, type[ClaimbridgeError]] = {
    400: ValidationFailed,
    401: Unauthenticated,
    403: AccessDenied,
    404: NotFound,
    422: ValidationFailed,
}


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and isinstance(body, dict):
        return body
    error = body.get("error", {}) if isinstance(body, dict) else {}
    kind = _ERRORS.get(response.status_code, StorageError)
    raise kind(
        str(error.get("message") or f"The server answered {response.status_code}."),
        where=error.get("where"),
    )
