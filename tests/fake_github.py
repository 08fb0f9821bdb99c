"""A fake GitHub REST API in the test process: it serves the few endpoints netpol uses,
keeps pull requests in memory and records every request so tests can check what was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str


@dataclass
class FakeGitHub:
    owner: str = "owner"
    name: str = "home-ops"
    token: str = "ghp_faketoken1234567890"
    url: str = ""
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    fail: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.name}"

    def _pull_json(self, pr: dict[str, Any]) -> dict[str, Any]:
        base = f"{self.url}/repos/{self.slug}"
        return {
            **pr,
            "url": f"{base}/pulls/{pr['number']}",
            "html_url": f"https://github.example/{self.slug}/pull/{pr['number']}",
            "head": {"ref": pr["head"], "label": f"{self.owner}:{pr['head']}"},
            "base": {"ref": pr["base"], "label": f"{self.owner}:{pr['base']}"},
        }

    def handle(self, req: Request) -> tuple[int, Any]:
        self.requests.append(req)
        if req.authorization not in (f"token {self.token}", f"Bearer {self.token}"):
            return 401, {"message": "Bad credentials"}
        failure = self.fail.get((req.method, req.path))
        if failure is not None:
            return failure
        repo = f"/repos/{self.slug}"
        if req.method == "GET" and req.path == repo:
            return 200, {
                "id": 1,
                "name": self.name,
                "full_name": self.slug,
                "owner": {"login": self.owner},
                "url": f"{self.url}{repo}",
                "default_branch": "main",
            }
        if req.path == f"{repo}/pulls" and req.method == "GET":
            head = req.query.get("head", [None])[0]
            base = req.query.get("base", [None])[0]
            found = [
                self._pull_json(pr)
                for pr in self.pulls.values()
                if pr["state"] == "open"
                and (head is None or f"{self.owner}:{pr['head']}" == head)
                and (base is None or pr["base"] == base)
            ]
            return 200, found
        if req.path == f"{repo}/pulls" and req.method == "POST":
            body = req.body
            if any(
                pr["head"] == body["head"] and pr["state"] == "open" for pr in self.pulls.values()
            ):
                return 422, {
                    "message": "Validation Failed",
                    "errors": [{"message": f"A pull request already exists for {body['head']}."}],
                }
            number = len(self.pulls) + 1
            self.pulls[number] = {
                "number": number,
                "title": body["title"],
                "body": body.get("body", ""),
                "head": body["head"],
                "base": body["base"],
                "draft": bool(body.get("draft", False)),
                "state": "open",
            }
            return 201, self._pull_json(self.pulls[number])
        if req.path.startswith(f"{repo}/pulls/"):
            number = int(req.path.rsplit("/", 1)[1])
            if number not in self.pulls:
                return 404, {"message": "Not Found"}
            if req.method == "PATCH":
                self.pulls[number].update(
                    {k: v for k, v in req.body.items() if k in ("title", "body", "state")}
                )
            return 200, self._pull_json(self.pulls[number])
        return 404, {"message": "Not Found"}


def serve(fake: FakeGitHub) -> Iterator[FakeGitHub]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, payload = fake.handle(
                Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    json.loads(raw) if raw else None,
                    self.headers.get("Authorization", ""),
                )
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
