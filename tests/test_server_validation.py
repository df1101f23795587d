"""Requests validated at the door: every malformed body gets a 4xx in the Hub's error shape (never a 500 or a
dropped connection), anonymous writes are refused before their body is read, and caches stay bounded."""

from __future__ import annotations

import base64
import json
import socket
import time
from urllib.parse import urlparse

import httpx
import pytest
from model_helpers import make_tiny_gpt2
from registry_helpers import isolated_learnerhub_home, make_learner_folder  # noqa: F401 (autouse fixture)

import registry
from registry.local.git import read_refs
from server import create_app
from server.testing import running_server

WRITE = "write-token"
KJV = "local/igf-gpt2-kjv"
AUTH = {"Authorization": f"Bearer {WRITE}"}


@pytest.fixture(scope="module")
def served(tmp_path_factory, tokenizer):
    root = tmp_path_factory.mktemp("validation")
    registry.publish(make_learner_folder(root / "kjv", make_tiny_gpt2(tokenizer), tokenizer), version="1.0.0",
                     store=root / "store")
    app = create_app(root / "store", tokens=[WRITE])
    with running_server(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        yield {"url": url, "client": client, "store": root / "store", "app": app}


def refs(served) -> dict[str, str]:
    return read_refs(served["store"] / "models" / KJV)


def hub_shaped_4xx(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.json()["error"] and response.headers["X-Error-Message"]
    assert all(32 <= ord(c) < 127 for c in response.headers["X-Error-Message"])


def ndjson(*lines) -> bytes:
    return b"".join((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines)


HEADER = {"key": "header", "value": {"summary": "s", "description": ""}}
FILE = {"key": "file", "value": {"path": "ok.txt", "encoding": "base64", "content": base64.b64encode(b"x").decode()}}
MALFORMED_COMMITS = {
    "header value is a list": ndjson({"key": "header", "value": []}, FILE),
    "summary is an int": ndjson({"key": "header", "value": {"summary": 3}}, FILE),
    "summary holds a NUL": ndjson({"key": "header", "value": {"summary": "a\u0000b"}}, FILE),
    "summary of 1 MB": ndjson({"key": "header", "value": {"summary": "s" * (1 << 20)}}, FILE),
    "description is a dict": ndjson({"key": "header", "value": {"summary": "s", "description": {}}}, FILE),
    "parentCommit is an int": ndjson({"key": "header", "value": {"summary": "s", "parentCommit": 1}}, FILE),
    "deeply nested JSON": ndjson(b"[" * 100_000),
    "deeply nested value": ndjson({"key": "header", "value": {"summary": "s"}},
                                  b'{"key": "file", "value": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
    "path is a list": ndjson(HEADER, {"key": "file", "value": {**FILE["value"], "path": ["a", "b"]}}),
    "path is null": ndjson(HEADER, {"key": "file", "value": {**FILE["value"], "path": None}}),
    "deleted path is null": ndjson(HEADER, {"key": "deletedFile", "value": {"path": None}}),
    "lone surrogate in a path": ndjson(HEADER, b'{"key": "file", "value": {"path": "a\\ud800.txt", '
                                               b'"encoding": "base64", "content": "eA=="}}'),
    "content is an int": ndjson(HEADER, {"key": "file", "value": {**FILE["value"], "content": 7}}),
    "value is a string": ndjson(HEADER, {"key": "file", "value": "ok.txt"}),
    "line is a list": ndjson(HEADER, [1, 2]),
    "invalid UTF-8": ndjson(HEADER, b'{"key": "deletedFile", "value": {"path": "\xff\xfe"}}'),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_COMMITS))
def test_malformed_commits_get_a_4xx_and_change_nothing(served, case):
    before = refs(served)
    answer = served["client"].post(f"/api/models/{KJV}/commit/main", content=MALFORMED_COMMITS[case],
                                   headers={**AUTH, "Content-Type": "application/x-ndjson"})
    hub_shaped_4xx(answer)
    assert refs(served) == before


MALFORMED_JSON = {
    "preupload files is a dict": ("preupload/main", {"files": {"path": "a"}}),
    "preupload entry is an int": ("preupload/main", {"files": [1]}),
    "preupload path is an int": ("preupload/main", {"files": [{"path": 1, "size": 1, "sample": ""}]}),
    "preupload path is null": ("preupload/main", {"files": [{"path": None, "size": 1, "sample": ""}]}),
    "preupload size is a string": ("preupload/main", {"files": [{"path": "a", "size": "1", "sample": ""}]}),
    "preupload deeply nested": ("preupload/main", b"[" * 100_000),
    "preupload body is a list": ("preupload/main", [1]),
    "tag is an int": ("tag/main", {"tag": 100}),
    "tag is null": ("tag/main", {"tag": None}),
    "tag body is not JSON": ("tag/main", b"{nope"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED_JSON))
def test_malformed_json_bodies_get_a_4xx(served, case):
    route, body = MALFORMED_JSON[case]
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    before = refs(served)
    answer = served["client"].post(f"/api/models/{KJV}/{route}", content=content,
                                   headers={**AUTH, "Content-Type": "application/json"})
    hub_shaped_4xx(answer)
    assert refs(served) == before


@pytest.mark.parametrize("payload", [{"name": "x", "organization": "models"}, {"name": "x", "organization": "api"},
                                     {"name": 5, "organization": "local"}, {"name": ["x"]},
                                     {"name": "x", "organization": "local", "private": "yes"},
                                     {"name": "x\u0001y"}])
def test_repository_names_that_cannot_work_are_refused(served, payload):
    hub_shaped_4xx(served["client"].post("/api/repos/create", json=payload, headers=AUTH))
    assert not (served["store"] / "models" / "models").exists()


@pytest.mark.parametrize("path", ["/api/models/local/a%01b", "/api/models/local/a%0D%0Ab", "/local/x%7F/resolve/main/a",
                                  "/api/models/local/igf-gpt2-kjv/revision/v%01", "/api/learners/local/a%1Bb",
                                  "/local/igf-gpt2-kjv/resolve/main/a%00b", "/local/igf-gpt2-kjv/resolve/ma%0Ain/a"])
def test_control_characters_in_names_get_an_answer(served, path):
    """An error message echoing the name used to put the control character in a header: no response at all."""
    answer = served["client"].get(path)
    hub_shaped_4xx(answer)


def test_anonymous_writes_are_refused_before_the_body_is_read(served):
    """Declare a 100 MB body and send none of it: the 401 must come without waiting for the body."""
    address = urlparse(served["url"])
    for route in ("/api/repos/create", f"/api/models/{KJV}/preupload/main", f"/api/models/{KJV}/tag/main",
                  f"/api/models/{KJV}/commit/main"):
        with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
            connection.sendall(f"POST {route} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               f"Content-Length: {100 << 20}\r\n\r\n{{".encode())
            started = time.monotonic()
            first = connection.recv(4096)
            assert first.startswith(b"HTTP/1.1 401"), (route, first[:200])
            assert time.monotonic() - started < 5


def test_validate_yaml_bodies_are_bounded(served):
    hub_shaped_4xx(served["client"].post("/api/validate-yaml", content=b"x" * (20 << 20),
                                         headers={"Content-Type": "application/json"}))
    hub_shaped_4xx(served["client"].post("/api/validate-yaml", json={"content": 3}))
    assert served["client"].post("/api/validate-yaml", json={"content": "---\na: 1\n---\n"}).status_code == 200


def test_the_version_cache_stays_bounded_under_random_versions(served):
    catalog = served["app"].state.context.catalog
    for number in range(300):
        answer = served["client"].get(f"/api/learners/{KJV}", params={"version": f"9.{number}.0-{number}"})
        assert answer.status_code == 404
    assert served["client"].get(f"/api/learners/{KJV}", params={"version": "1.0.0"}).status_code == 200
    assert len(catalog._facts) <= 10
