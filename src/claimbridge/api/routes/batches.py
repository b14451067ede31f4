"""Batches over HTTP: signed uploads streamed in, receipts and content out.

``POST /batches`` takes the content as the raw request body (any size up to
``max_batch_bytes``, never buffered whole) and the signed manifest in the
``Claimbridge-Manifest`` header, base64url-encoded JSON. The answer is the
signed receipt: 201 for a new batch read and ingested at once (its
``status`` says accepted or rejected, with every error and its location),
202 for a large one stored and queued for the ingest worker (``status``
processing: poll ``GET /batches/{id}/receipt``), 200 with ``duplicate:
true`` for a batch already received. ``claimbridge send`` is the client.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any

import anyio
import anyio.from_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.requests import ClientDisconnect

from claimbridge.access.admin import require_admin
from claimbridge.access.permissions import Permission
from claimbridge.access.principal import actor_of
from claimbridge.api.context import AppContext, app_context
from claimbridge.api.security import (
    AUTHENTICATED_ONLY,
    Caller,
    request_id,
    requires,
    with_caller,
)
from claimbridge.errors import ConfigError, InputError, PayloadTooLarge, ValidationFailed
from claimbridge.exchange.orgkeys import list_keys, parse_public_key, register_key
from claimbridge.exchange.service import recipients_of
from claimbridge.phi.batches import BatchAccess, batch_summary

router = APIRouter(tags=["exchange"])
Ctx = Annotated[AppContext, Depends(app_context)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0)]
MANIFEST_HEADER = "claimbridge-manifest"
_CHUNK = 1 << 20


class _RequestBody:
    """The request body as a blocking stream, for the service running in a worker thread."""

    def __init__(self, request: Request) -> None:
        self._chunks = request.stream().__aiter__()
        self._buffer = b""
        self._done = False

    async def _pull(self) -> bytes:
        return await self._chunks.__anext__()

    def _next(self) -> bytes | None:
        try:
            return anyio.from_thread.run(self._pull)
        except StopAsyncIteration:
            return None
        except ClientDisconnect:
            raise InputError("The upload was cut off.", where="content") from None

    def read(self, size: int = -1) -> bytes:
        want = _CHUNK if size is None or size < 0 else size
        while not self._done and len(self._buffer) < want:
            chunk = self._next()
            if chunk is None:
                self._done = True
            else:
                self._buffer += chunk
        out, self._buffer = self._buffer[:want], self._buffer[want:]
        return out


def _manifest_of(request: Request) -> bytes:
    encoded = request.headers.get(MANIFEST_HEADER)
    if not encoded:
        raise ValidationFailed(
            "The signed manifest is missing (header Claimbridge-Manifest).", where="manifest"
        )
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(
            "The Claimbridge-Manifest header must be base64url.", where="manifest"
        ) from exc


@router.post("/batches", openapi_extra=requires(Permission.BATCH_UPLOAD))
async def upload_batch(request: Request, ctx: Ctx) -> JSONResponse:
    """Receive one signed batch; answer with its signed receipt once it is durable."""
    service = ctx.batches
    if service is None:
        raise ConfigError("This server does not receive batches (no server signing key).")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > service.max_bytes:
        raise PayloadTooLarge(
            f"The batch is larger than this server accepts ({service.max_bytes} bytes).",
            where="content",
        )
    manifest = _manifest_of(request)

    def work() -> Any:
        principal = with_caller(request, ctx, lambda _session, caller: caller.principal)
        body = _RequestBody(request)
        return service.receive(
            principal,
            manifest,
            body,  # type: ignore[arg-type]
            request_id=request_id(request),
            queue_from=ctx.settings.ingest_queue_from_bytes if ctx.worker else None,
        )

    delivery = await anyio.to_thread.run_sync(work)
    if delivery.duplicate:
        status = 200
    elif delivery.status == "processing":
        status = 202
        if ctx.worker is not None:
            ctx.worker.wake()
    else:
        status = 201
    return JSONResponse(delivery.to_json(), status_code=status)


@router.get("/exchange/recipients", openapi_extra=requires(Permission.BATCH_UPLOAD))
def recipients(request: Request, ctx: Ctx) -> dict[str, Any]:
    """The billing companies this practice may send to now (active engagements)."""

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        BatchAccess(session, caller.principal, now=ctx.clock.now()).require_upload()
        items = recipients_of(session, caller.principal.organisation_id, now=ctx.clock.now())
        return {"organisation_id": caller.principal.organisation_id, "items": items}

    return with_caller(request, ctx, work)


def _access(request: Request, ctx: Ctx, work: Any) -> Any:
    def run(session: Session, caller: Caller) -> Any:
        access = BatchAccess(
            session, caller.principal, now=ctx.clock.now(), request_id=request_id(request)
        )
        return work(access)

    return with_caller(request, ctx, run)


@router.get("/batches", openapi_extra=requires(Permission.BATCH_READ))
def list_batches(
    request: Request, ctx: Ctx, limit: Limit = 50, offset: Offset = 0
) -> dict[str, Any]:
    result: dict[str, Any] = _access(request, ctx, lambda a: a.list(limit=limit, offset=offset))
    return result


@router.get("/batches/{batch_id}", openapi_extra=requires(Permission.BATCH_READ))
def get_batch(batch_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    def work(access: BatchAccess) -> dict[str, Any]:
        row = access.get(batch_id)
        return {**batch_summary(row), "receipt": json.loads(row.receipt or "null")}

    result: dict[str, Any] = _access(request, ctx, work)
    return result


@router.get("/batches/{batch_id}/receipt", openapi_extra=requires(Permission.BATCH_READ))
def get_receipt(batch_id: str, request: Request, ctx: Ctx) -> Response:
    """The signed receipt exactly as stored: check it with ``claimbridge receipt verify``."""
    text: str = _access(request, ctx, lambda a: a.receipt(batch_id))
    return Response(text, media_type="application/json")


@router.get("/batches/{batch_id}/content", openapi_extra=requires(Permission.BATCH_READ))
def get_content(batch_id: str, request: Request, ctx: Ctx) -> StreamingResponse:
    """The batch's original bytes, decrypted as they stream; the disclosure is audited first."""
    service = ctx.batches
    if service is None:
        raise ConfigError("This server keeps no batches.")

    def work(session: Session, caller: Caller) -> Any:
        access = BatchAccess(
            session, caller.principal, now=ctx.clock.now(), request_id=request_id(request)
        )
        content = access.content(batch_id)
        key_id = service.files.data_key_id(content.blob_key)
        key = ctx.keyring.key_for(session, content.practice_id)(key_id)
        return content, key

    content, key = with_caller(request, ctx, work)

    def chunks() -> Iterator[bytes]:
        with service.files.reader(content.practice_id, content.blob_key, key) as stream:
            while chunk := stream.read(_CHUNK):
                yield chunk

    media = "application/json" if content.format == "fhir-r4" else "text/plain"
    return StreamingResponse(
        chunks(),
        media_type=f"{media}; charset=utf-8" if content.format == "csv" else media,
        headers={
            "Content-Length": str(content.size_bytes),
            "Content-Disposition": f'attachment; filename="batch-{content.batch_id}"',
            "X-Content-SHA256": content.content_sha256,
        },
    )


class KeyRegistration(BaseModel):
    public_key: str = Field(min_length=64, max_length=64, description="Ed25519, 64 hex digits")
    overlap_days: int = Field(default=7, ge=0, le=90)


@router.post(
    "/signing-keys", status_code=201, openapi_extra=requires(Permission.SIGNING_KEY_MANAGE)
)
def register_signing_key(body: KeyRegistration, request: Request, ctx: Ctx) -> dict[str, Any]:
    """Register the caller's organisation's new batch-signing key; older keys retire."""

    def work(session: Session, caller: Caller) -> dict[str, Any]:
        require_admin(
            session,
            caller.principal,
            Permission.SIGNING_KEY_MANAGE,
            "exchange:signing-key:registered",
            resource_type="signing_key",
            now=ctx.clock.now(),
        )
        key = register_key(
            session,
            caller.principal.organisation_id,
            parse_public_key(body.public_key),
            now=ctx.clock.now(),
            actor=actor_of(caller.principal),
            overlap=timedelta(days=body.overlap_days),
        )
        return key.to_json()

    result: dict[str, Any] = with_caller(request, ctx, work)
    return result


@router.get(
    "/organisations/{organisation_id}/signing-keys",
    openapi_extra=requires(AUTHENTICATED_ONLY),
)
def signing_keys(organisation_id: str, request: Request, ctx: Ctx) -> dict[str, Any]:
    """An organisation's batch-signing public keys, current and retired: public by nature."""

    def work(session: Session, _caller: Caller) -> dict[str, Any]:
        return {"items": [key.to_json() for key in list_keys(session, organisation_id)]}

    result: dict[str, Any] = with_caller(request, ctx, work)
    return result
