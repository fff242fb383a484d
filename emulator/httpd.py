"""The HTTP side of the emulator: turns each request into a `Request`, applies scripted faults,
logs it, and writes the `Response` of the API routes (emulator/app.py) or the admin routes
(emulator/admin.py).
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulator.admin import admin_route
from emulator.app import api_route
from emulator.areas import area_of
from emulator.auth import identify
from emulator.faults import Fault, FaultBook
from emulator.records import RequestRecord
from emulator.store import MSG_USER_NOT_FOUND, Store
from emulator.wire import (
    ADMIN_PREFIX,
    MSG_INVALID,
    MSG_MANAGEMENT_ONLY,
    MSG_NOT_FOUND,
    ApiError,
    Request,
    Response,
    api_parts,
    error_body,
)


def logged_body(store: Store, path: str, raw: bytes) -> Any:
    """What the log keeps of a request body: its JSON (None when empty or not JSON), with the
    secrets of an API area's body masked as that area masks them."""
    try:
        body = json.loads(raw) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None
    area = area_of(api_parts(path))
    if area is None:
        return body
    with store.lock:
        return store.books[area.name].logged(body)


# --- HTTP ---------------------------------------------------------------------------------------


class EmulatorServer(ThreadingHTTPServer):
    """A threading HTTP server that carries the store and the fault book."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: Store, faults: FaultBook) -> None:
        self.store = store
        self.faults = faults
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    """Turns HTTP into `Request`, applies faults, logs, and writes the `Response`."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a keep-alive client waits ~40 ms
    # for the delayed ACK on every response, which dominated every test and benchmark.
    disable_nagle_algorithm = True
    server_version = "openrouter-emulator"
    sys_version = ""
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests read the structured request log instead."""

    def do_GET(self) -> None:
        self.dispatch()

    def do_POST(self) -> None:
        self.dispatch()

    def do_PATCH(self) -> None:
        self.dispatch()

    def do_DELETE(self) -> None:
        self.dispatch()

    def do_PUT(self) -> None:
        self.dispatch()

    def read_request(self) -> Request | None:
        parts = urlsplit(self.path)
        raw_length = self.headers.get("Content-Length") or "0"
        if not raw_length.isdigit():
            return None
        length = int(raw_length)
        return Request(
            method=self.command,
            path=parts.path,
            raw_query=parts.query,
            query=parse_qs(parts.query, keep_blank_values=True),
            authorization=self.headers.get("Authorization"),
            body=self.rfile.read(length) if length else b"",
        )

    def dispatch(self) -> None:
        request = self.read_request()
        if request is None:
            self.close_connection = True
            self.send(Response(400, error_body(400, MSG_INVALID)))
            return
        store, faults = self.server.store, self.server.faults
        if request.path.startswith(ADMIN_PREFIX + "/") or request.path == ADMIN_PREFIX:
            self.send(self.answer(lambda: admin_route(store, faults, request)))
            return
        query = request.raw_query
        generation = store.generation
        auth = identify(store, request.authorization)
        fault = faults.take(request.method, request.path)

        def log(status: int | None, kind: str | None) -> None:
            store.log(RequestRecord(
                request.method, request.path, query, status, auth, kind,
                logged_body(store, request.path, request.body),
            ))

        if fault is not None and fault.latency:
            time.sleep(fault.latency)
        if fault is not None and fault.drop == "before":
            log(None, fault_kind(fault))
            self.drop()
            return
        if fault is not None and fault.status is not None:
            log(fault.status, fault_kind(fault))
            self.send(fault_response(fault))
            return
        with store.lock:
            if store.generation != generation:
                self.drop()
                return
            response = self.answer(lambda: api_route(store, request))
            # A dropped response still logs the status the server decided on: what happened.
            log(response.status, None if fault is None else fault_kind(fault))
        if fault is not None and fault.latency_after_commit:
            time.sleep(fault.latency_after_commit)
        if fault is not None and fault.drop == "after_commit":
            self.drop()
            return
        self.send(response, cut_body=fault is not None and fault.drop == "mid_body")

    @staticmethod
    def answer(handle: Callable[[], Response]) -> Response:
        try:
            return handle()
        except ApiError as error:
            return Response(error.status, error_body(error.status, error.message))
        except Exception as error:  # an emulator bug: answer like the API, and name it
            message = f"Internal Server Error (emulator bug: {type(error).__name__}: {error})"
            return Response(500, error_body(500, message))

    def drop(self) -> None:
        """Close the connection without writing a byte."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def send(self, response: Response, *, cut_body: bool = False) -> None:
        payload = b"" if response.body is None else (
            response.body.encode() if isinstance(response.body, str)
            else json.dumps(response.body).encode()
        )
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2] if cut_body else payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return
        if cut_body:
            self.drop()


def fault_kind(fault: Fault) -> str:
    if fault.drop is not None:
        return f"drop_{fault.drop}"
    return "status" if fault.status is not None else "latency"


def fault_response(fault: Fault) -> Response:
    status = int(fault.status or 500)
    body = fault.body if fault.body is not None else error_body(
        status, default_message(status)
    )
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    return Response(status, body, headers)


def default_message(status: int) -> str:
    known = {
        400: MSG_INVALID,
        401: MSG_USER_NOT_FOUND,
        403: MSG_MANAGEMENT_ONLY,
        404: MSG_NOT_FOUND,
        429: "Rate limit exceeded",
        500: "Internal Server Error",
    }
    if status in known:
        return known[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
