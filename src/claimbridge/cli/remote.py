"""Talking to a claimbridge server from the command line, as a signed-in principal.

A practice's people are not on the server: they reach it over HTTPS with
an API token (``--token`` or ``CLAIMBRIDGE_TOKEN``) or, for machines, a
registered client certificate (``--cert`` and ``--key``, mutual TLS).
Certificate checks are never switched off; ``--ca`` names the server's own
certificate to trust (the embedded default's is self-signed).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from claimbridge.errors import (
    AccessDenied,
    ClaimbridgeError,
    ConfigError,
    Conflict,
    NotFound,
    PayloadTooLarge,
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
OptionalTokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="CLAIMBRIDGE_TOKEN",
        help="An API token (cbt_...); or give --cert and --key.",
        show_default=False,
    ),
]
CertOption = Annotated[
    Path | None,
    typer.Option("--cert", help="A registered client certificate (PEM), for mutual TLS."),
]
CertKeyOption = Annotated[
    Path | None, typer.Option("--key", help="The client certificate's private key (PEM).")
]
CaOption = Annotated[
    Path | None,
    typer.Option("--ca", help="A certificate (PEM) to trust for the server, e.g. its own."),
]

TIMEOUT_SECONDS = 30.0
UPLOAD_TIMEOUT = httpx.Timeout(30.0, read=600.0)
"""Reading the answer to an upload waits for the server to read and store it all."""


class ServerUnreachable(StorageError):
    code = "server_unreachable"
    public_message = "The server could not be reached."


@dataclass(frozen=True, slots=True)
class Remote:
    server: str
    token: str | None
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None

    def __post_init__(self) -> None:
        if not self.token and not self.cert:
            raise ConfigError(
                "Give an API token (--token or CLAIMBRIDGE_TOKEN) or a client certificate "
                "(--cert and --key).",
                where="--token",
            )
        if self.cert is not None and self.key is None:
            raise ConfigError("--cert needs its private key: --key.", where="--key")

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self._call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._call("POST", path, **kwargs)

    def upload(
        self, path: str, content: Iterable[bytes], *, size: int, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """POST ``content`` as a stream of ``size`` bytes; the status and the JSON answer."""
        response = self._request(
            "POST",
            path,
            content=content,
            headers={**headers, "Content-Length": str(size)},
            timeout=UPLOAD_TIMEOUT,
        )
        return response.status_code, _answer(response)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return _answer(self._request(method, path, **kwargs))

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if not self.server.startswith("https://"):
            raise ConfigError("The server URL must start with https://.", where="--server")
        url = self.server.rstrip("/") + "/api/v1" + path
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        timeout = kwargs.pop("timeout", TIMEOUT_SECONDS)
        try:
            with httpx.Client(verify=self._tls(), timeout=timeout) as client:
                return client.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise ServerUnreachable(where=self.server, detail=type(error).__name__) from None

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca) if self.ca else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert is not None:
            try:
                context.load_cert_chain(str(self.cert), str(self.key))
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    "The client certificate or its key cannot be read.", where="--cert"
                ) from exc
        return context


_ERRORS: dict[int, type[ClaimbridgeError]] = {
    400: ValidationFailed,
    401: Unauthenticated,
    403: AccessDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
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
