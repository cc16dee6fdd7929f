"""A small hostile HTTP server on 127.0.0.1: each test scripts what it answers, byte by byte if
need be (a drip, a lie about the length, a wrong shape), which the sandbox never does."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Responder = Callable[[Request, socket.socket], None]


def send(
    sock: socket.socket,
    status: int,
    body: bytes | dict[str, Any],
    headers: dict[str, str] | None = None,
) -> None:
    """An ordinary answer; a dict body is sent as JSON."""
    payload = json.dumps(body).encode() if isinstance(body, dict) else body
    head = {
        "content-type": "application/json",
        "content-length": str(len(payload)),
        **(headers or {}),
    }
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in head.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)


@dataclass
class HostileServer:
    """Serves `respond` for every request until closed; records what it was sent."""

    respond: Responder
    received: list[Request] = field(default_factory=list)

    def __enter__(self) -> HostileServer:
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(10)
                reader = self.request.makefile("rb")
                try:
                    while True:
                        line = reader.readline(65536)
                        if not line:
                            return
                        method, target, _ = line.decode().split(" ", 2)
                        headers = {}
                        while (line := reader.readline(65536)) not in (b"\r\n", b"\n", b""):
                            name, _, value = line.decode().partition(":")
                            headers[name.strip().lower()] = value.strip()
                        body = reader.read(int(headers.get("content-length", "0")))
                        request = Request(method, target, headers, body)
                        outer.received.append(request)
                        outer.respond(request, self.request)
                except (OSError, ValueError):
                    return

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


def jobs_page(job_id: str) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "next": None,
            "results": [
                {
                    "id": job_id,
                    "name": "Job",
                    "status": "OPEN",
                    "stages": [],
                    "screening_questions": [],
                }
            ],
        },
    }


def drip(sock: socket.socket, every: float, count: int) -> None:
    """A 200 whose body arrives one byte at a time, `every` seconds apart (bounded by `count`)."""
    sock.sendall(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n"
    )
    for _ in range(count):
        time.sleep(every)
        sock.sendall(b" ")
