"""Requests go through the proxy the environment names (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY,
NO_PROXY), as httpx's client and curl send them: a recruiting team behind a company proxy can
reach Kombo. A real forwarding proxy on 127.0.0.1 relays to the sandbox and counts what it
relayed."""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import read_csv

from importer.client import environment_proxy
from importer.runs import DryRunOptions, SubmitOptions, submit_file
from importer.settings import SubmitSettings


class _Forwarding(BaseHTTPRequestHandler):
    """A plain-HTTP proxy: each request comes with the absolute URL of its target."""

    relayed: list[str]

    def _relay(self) -> None:
        target = urllib.parse.urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-connection"}
            upstream.request(self.command, path, body=body or None, headers=headers)
            answer = upstream.getresponse()
            content = answer.read()
        finally:
            upstream.close()
        self.relayed.append(f"{self.command} {target.path}")
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    do_GET = do_POST = _relay

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    relayed: list[str] = []
    handler = type("Handler", (_Forwarding,), {"relayed": relayed})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", relayed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _settings(sandbox) -> SubmitSettings:
    return SubmitSettings(
        server_url=sandbox.url,
        api_key=sandbox.config.api_key,
        integration_id=sandbox.config.integration_id,
        concurrency=2,
    )


def test_every_request_goes_through_the_proxy_the_environment_names(
    sandbox, people, proxy, tmp_path, monkeypatch
):
    address, relayed = proxy
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", address)
    source, mapping = people(4)
    results = tmp_path / "results.csv"
    submit_file(SubmitOptions(DryRunOptions(source, mapping), results), _settings(sandbox))
    assert [r["status"] for r in read_csv(results)] == ["created"] * 4
    assert relayed.count("POST /v1/ats/candidates") == 4
    assert "GET /v1/ats/jobs" in relayed  # the remote checks' listings too


def test_no_proxy_sends_straight_to_the_host_it_names(
    sandbox, people, proxy, tmp_path, monkeypatch
):
    address, relayed = proxy
    monkeypatch.setenv("HTTP_PROXY", address)
    monkeypatch.setenv("NO_PROXY", "example.org, 127.0.0.1")
    source, mapping = people(2)
    results = tmp_path / "results.csv"
    submit_file(SubmitOptions(DryRunOptions(source, mapping), results), _settings(sandbox))
    assert [r["status"] for r in read_csv(results)] == ["created"] * 2
    assert relayed == []


@pytest.mark.parametrize(
    ("environment", "url", "expected"),
    [
        ({"HTTPS_PROXY": "http://p:3128"}, "https://api.kombo.dev/v1", "http://p:3128"),
        ({"HTTPS_PROXY": "http://p:3128"}, "http://127.0.0.1:8000", None),
        ({"ALL_PROXY": "http://all:1"}, "https://api.kombo.dev/v1", "http://all:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "kombo.dev"}, "https://api.kombo.dev", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".kombo.dev"}, "https://api.kombo.dev", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "https://api.kombo.dev", None),
        ({"HTTPS_PROXY": "p:3128"}, "https://api.kombo.dev/v1", "http://p:3128"),
        (
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "https://api.kombo.dev"},
            "https://api.kombo.dev",
            None,
        ),
        ({"HTTP_PROXY": "http://p:1", "NO_PROXY": "127.0.0.1:8000"}, "http://127.0.0.1:8000", None),
        (
            {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "notkombo.dev"},
            "https://api.kombo.dev",
            "http://p:1",
        ),
    ],
)
def test_which_proxy_a_url_takes(monkeypatch, environment, url, expected):
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert environment_proxy(url) == expected
