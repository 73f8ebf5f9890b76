"""HTTP for the simulator: the contract's ``/v1`` API and the dev-only ``/_control`` API.

``/v1`` requests pass through :class:`Gate` (an outermost ASGI layer) that applies injected
faults, authenticates the bearer token (401/403), rate-limits per token (429 + Retry-After)
and logs method, path and status of every request for tests to count. ``/_control`` needs
no auth: it exists for tests and the demo and must never be exposed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from simulator import records
from simulator.service import ApiError, Sidekick
from simulator.store import Store

#: Bodies above the limit are still read (up to this much) so the client sees the 413, not a reset.
_DRAIN_LIMIT = 4 * records.MAX_COMPRESSED


def _json(body: object | bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content=content, status_code=status, media_type="application/json", headers=headers)


def _error(exc: ApiError) -> Response:
    return _json(exc.body(), exc.status, exc.headers)


class Gate:
    """Faults, auth, rate limit and the request log for ``/v1``, before any routing."""

    def __init__(self, app: Callable, service: Sidekick):
        self.app = app
        self.service = service

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        status = [0]

        async def send_logged(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        auth = dict(scope["headers"]).get(b"authorization")
        authorization = auth.decode("latin-1") if auth else None
        account_id = self.service.identify(authorization)
        try:
            fault = self.service.take_fault(method, path)
            if fault is not None:
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.drop:
                    self._drop(receive)
                    return
                if fault.status is not None:
                    await self._drain(receive)
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
                    if fault.body is not None:  # e.g. a proxy's HTML page instead of Sidekick's JSON
                        answer = Response(fault.body.encode(), fault.status, headers, media_type=fault.content_type)
                    else:
                        answer = _error(ApiError(fault.status, "injected_fault", f"injected fault {fault.id}", headers))
                    await answer(scope, receive, send_logged)
                    return
            try:
                account = self.service.authenticate(authorization)
                self.service.rate_limit(account.id)
            except ApiError as exc:
                await self._drain(receive)
                await _error(exc)(scope, receive, send_logged)
                return
            scope.setdefault("state", {})["account"] = account
            await self.app(scope, receive, send_logged)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            self.service.log_request(method, path, query, status[0], account_id, (time.perf_counter() - started) * 1000)

    @staticmethod
    async def _drain(receive) -> None:
        """Read the request body before answering early, so the client gets the answer, not a reset."""
        size = 0
        while size <= _DRAIN_LIMIT:
            message = await receive()
            if message["type"] != "http.request":
                return
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    @staticmethod
    def _drop(receive) -> None:
        """Close the socket without an answer (RST), as a crashed server or a proxy would."""
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if transport is None:  # not under uvicorn: the closest we can do is an unanswered request
            raise ConnectionAbortedError("fault: drop")
        sock = transport.get_extra_info("socket")
        with contextlib.suppress(Exception):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()


def create_app(db_path: str | Path) -> Gate:
    store = Store(db_path)
    service = Sidekick(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        service.start()
        try:
            yield
        finally:
            service.stop()
            store.close()

    api = FastAPI(title="Campaign Sidekick simulator", lifespan=lifespan, docs_url=None, redoc_url=None)
    api.state.service = service

    @api.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> Response:
        return _error(exc)

    @api.exception_handler(HTTPException)
    async def _http_error(_request: Request, exc: HTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(ApiError(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail)))

    @api.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> Response:
        return _error(ApiError(422, "invalid_request", str(exc.errors()[:3])))

    # ------------------------------------------------------------------ contract: /v1

    @api.put("/v1/uploads/{upload_key}/parts/{part_number}")
    async def put_part(request: Request, upload_key: str, part_number: str) -> Response:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > _DRAIN_LIMIT:
            raise ApiError(413, "part_too_large", "the part is over 16 MiB compressed")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size <= records.MAX_COMPRESSED:
                chunks.append(chunk)
            elif size > _DRAIN_LIMIT:
                break
        if size > records.MAX_COMPRESSED:
            raise ApiError(413, "part_too_large", f"the part is {size} bytes compressed; the limit is 16 MiB")
        status, body = await run_in_threadpool(
            service.put_part,
            request.state.account,
            upload_key,
            part_number,
            request.headers.get("content-type", ""),
            request.headers.get("content-encoding", ""),
            b"".join(chunks),
        )
        return _json(body, status)

    @api.post("/v1/uploads/{upload_key}/complete")
    async def complete(request: Request, upload_key: str) -> Response:
        body = await request.body()
        status, out = await run_in_threadpool(service.complete, request.state.account, upload_key, body)
        return _json(out, status)

    @api.get("/v1/uploads/{upload_key}")
    def get_upload(request: Request, upload_key: str) -> Response:
        return _json(service.get_upload(request.state.account, upload_key))

    @api.get("/v1/uploads")
    def list_uploads(request: Request) -> Response:
        return _json(service.list_uploads(request.state.account, request.query_params.get("limit")))

    @api.post("/v1/tags/refresh")
    def refresh_tags(request: Request) -> Response:
        return _json(service.refresh_tags(request.state.account), 202)

    @api.get("/v1/changes")
    def changes(request: Request) -> Response:
        params = request.query_params
        return _json(service.changes_page(request.state.account, params.get("cursor"), params.get("limit")))

    # ------------------------------------------------------------------ dev-only: /_control

    async def _payload(request: Request) -> dict:
        raw = await request.body()
        if not raw:
            return {}
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ApiError(422, "invalid_body", "control bodies are JSON objects") from None
        if not isinstance(data, dict):
            raise ApiError(422, "invalid_body", "control bodies are JSON objects")
        return data

    @api.get("/_control/health")
    def health() -> Response:
        return _json({"ok": True})

    @api.post("/_control/reset")
    def reset() -> Response:
        service.reset()
        return _json({"ok": True})

    @api.get("/_control/settings")
    def get_settings() -> Response:
        return _json(service.settings)

    @api.post("/_control/settings")
    async def set_settings(request: Request) -> Response:
        return _json(service.update_settings(await _payload(request)))

    @api.post("/_control/accounts")
    async def register(request: Request) -> Response:
        return _json(service.register_account(await _payload(request)), 201)

    @api.get("/_control/accounts/{account_id}")
    def account(account_id: int) -> Response:
        return _json(service.account(account_id))

    @api.patch("/_control/accounts/{account_id}")
    async def update_account(request: Request, account_id: int) -> Response:
        return _json(service.update_account(account_id, await _payload(request)))

    @api.post("/_control/accounts/{account_id}/changes")
    async def add_changes(request: Request, account_id: int) -> Response:
        data = await _payload(request)
        changes = data.get("changes")
        if not isinstance(changes, list) or not all(isinstance(c, dict) and "type" in c for c in changes):
            raise ApiError(422, "invalid_body", 'expected {"changes": [{"type": ...}, ...]}')
        age = float(data.get("age_seconds", 0)) + float(data.get("age_days", 0)) * 86400
        stored = await run_in_threadpool(service.add_changes, account_id, changes, age)
        return _json({"count": len(stored), "changes": stored}, 201)

    @api.post("/_control/accounts/{account_id}/cursor")
    async def mint_cursor(request: Request, account_id: int) -> Response:
        data = await _payload(request)
        age = float(data.get("age_seconds", 0)) + float(data.get("age_days", 0)) * 86400
        return _json({"cursor": service.mint_cursor(account_id, int(data.get("after_seq", 0)), age)})

    @api.get("/_control/accounts/{account_id}/uploads")
    def control_uploads(account_id: int) -> Response:
        return _json({"uploads": service.control_uploads(account_id)})

    @api.get("/_control/accounts/{account_id}/uploads/{upload_key}/parts")
    def control_parts(account_id: int, upload_key: str) -> Response:
        return _json({"parts": service.control_parts(account_id, upload_key)})

    @api.get("/_control/accounts/{account_id}/uploads/{upload_key}/records")
    def control_records(account_id: int, upload_key: str, part: int | None = None) -> Response:
        return _json(service.control_records(account_id, upload_key, part))

    @api.post("/_control/accounts/{account_id}/uploads/{upload_key}/fail")
    async def fail_upload(request: Request, account_id: int, upload_key: str) -> Response:
        reason = (await _payload(request)).get("reason") or "Failed by the simulator's control API"
        return _json(service.fail_upload(account_id, upload_key, str(reason)))

    @api.get("/_control/requests")
    def requests_log(
        account_id: int | None = None, method: str | None = None, path: str | None = None, since_id: int = 0
    ) -> Response:
        return _json({"requests": service.requests_log(account_id, method, path, since_id)})

    @api.get("/_control/faults")
    def faults() -> Response:
        return _json({"faults": service.faults()})

    @api.post("/_control/faults")
    async def add_fault(request: Request) -> Response:
        try:
            fault = service.add_fault(await _payload(request))
        except (ValueError, TypeError) as exc:
            raise ApiError(422, "invalid_fault", str(exc)) from None
        return _json(fault.as_json(), 201)

    @api.delete("/_control/faults")
    def clear_faults() -> Response:
        service.clear_faults()
        return _json({"ok": True})

    return Gate(api, service)
