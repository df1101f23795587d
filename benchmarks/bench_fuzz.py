"""Fuzz the server over loopback: schemathesis cases from its OpenAPI schema, plus raw Hub-route requests
(NDJSON commits, resolve paths, odd headers) the schema cannot describe. Goals: no 5xx, no dropped
connection, no write outside the store.

The server runs as `learnerhub serve` in its own process (so a crash or a dropped connection is what a
client would see) on a store holding a published learner; its working directory and a canary folder
beside the store are compared before and after. Half the requests carry the write token, so writes get
past the door and reach the validation behind it.

    .venv/bin/python benchmarks/bench_fuzz.py [--requests 12000] [--budget-seconds 300]
"""

from __future__ import annotations

import argparse
import base64
import collections
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import requests  # noqa: E402  (schemathesis' transport)
import schemathesis  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

TOKEN = "fuzz-token"
REPO = "local/igf-gpt2-kjv"
DROPPED = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value) -> bytes:
    """The commit route's body: its schema describes one NDJSON line; a list is several lines."""
    lines = value if isinstance(value, list) else [value]
    return b"\n".join(json.dumps(line, default=str).encode() for line in lines)


class Tally:
    """Counts of answers by status, dropped connections, and the first few failures to look at."""

    def __init__(self, deadline: float, limit: int) -> None:
        self.deadline, self.limit = deadline, limit
        self.statuses: collections.Counter = collections.Counter()
        self.dropped = 0
        self.failures: list[dict] = []
        self.by_source: collections.Counter = collections.Counter()

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + self.dropped

    def done(self) -> bool:
        return self.total >= self.limit or time.monotonic() > self.deadline

    def record(self, source: str, method: str, path: str, status: int | None, detail: str = "") -> None:
        self.by_source[source] += 1
        if status is None:
            self.dropped += 1
        else:
            self.statuses[status] += 1
        if (status is None or status >= 500) and len(self.failures) < 30:
            self.failures.append({"source": source, "method": method, "path": path[:200], "status": status,
                                  "detail": detail[:300]})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed_store(store: Path, work: Path) -> None:
    import registry
    from conftest import make_tiny_gpt2, synthetic_documents, train_tokenizer
    from registry_helpers import make_learner_folder

    tokenizer = train_tokenizer(synthetic_documents())
    model = make_tiny_gpt2(tokenizer)
    for number, version in enumerate(("1.0.0", "1.1.0")):
        folder = make_learner_folder(work / f"learner-{number}", model, tokenizer, seed=number, plot=True)
        registry.publish(folder, version=version, store=store)


def start_server(store: Path, cwd: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "LEARNERHUB_TOKENS": TOKEN, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "learnerhub.cli", "serve", "--store", str(store), "--port",
                                str(port), "--log-level", "warning", "--max-body-mb", "8"], cwd=cwd, env=env,
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/whoami-v2", timeout=2)
            return process
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the server did not start; see {log}")


def snapshot(folder: Path, *, skip: Path | None = None) -> dict[str, tuple[int, int]]:
    found = {}
    for path in folder.rglob("*"):
        if skip is not None and (path == skip or skip in path.parents):
            continue
        stat = path.lstat()
        found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns)
    return found


def fuzz_schema(url: str, tally: Tally, per_operation: int) -> list[str]:
    """schemathesis cases (positive and negative) for every operation of /openapi.json."""
    schema = schemathesis.openapi.from_dict(requests.get(f"{url}/openapi.json", timeout=10).json())
    skipped = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if tally.done():
                return skipped
            try:
                strategy = operation.as_strategy(generation_mode=mode)
            except Exception as error:  # noqa: BLE001 - an operation schemathesis cannot generate for
                skipped.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {error}"[:200])
                continue

            @settings(max_examples=per_operation, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck), derandomize=False)
            @given(case=strategy, authorised=st.booleans())
            def run(case, authorised):
                if tally.done():
                    return
                headers = {"Authorization": f"Bearer {TOKEN}"} if authorised else {}
                label = f"schema-{mode.value}"  # noqa: B023 - run() is called below, in this same iteration
                try:
                    response = case.call(base_url=url, headers=headers, timeout=30)
                    tally.record(label, case.method, case.formatted_path, response.status_code,
                                 response.text[:300] if response.status_code >= 500 else "")
                except DROPPED as error:
                    tally.record(label, case.method, case.formatted_path, None, repr(error))
                except Exception as error:  # noqa: BLE001 - a case the client cannot even send is not a request
                    tally.by_source["unsendable"] += 1
                    del error

            try:
                run()
            except Exception as error:  # noqa: BLE001 - hypothesis gave up on this operation
                skipped.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {error}"[:200])
    return skipped


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=12)
names = st.text(min_size=1, max_size=40) | st.sampled_from(["..", ".", ".git", "a/../../b", "models", "x.lock",
                                                              "\x00", "a\r\nb", "\ud800", "v1.0.0"])


def commit_lines() -> st.SearchStrategy[bytes]:
    """NDJSON bodies: plausible operations with mutated fields, random JSON, raw bytes, deep nesting."""
    content = st.binary(max_size=64).map(lambda b: base64.b64encode(b).decode()) | st.text(max_size=20)
    header = st.fixed_dictionaries({"key": st.just("header"), "value": st.fixed_dictionaries(
        {"summary": st.text(max_size=50) | json_values},
        optional={"description": json_values, "parentCommit": st.text(max_size=41) | json_values})})
    operation = st.fixed_dictionaries({"key": st.sampled_from(["file", "deletedFile", "deletedFolder", "lfsFile",
                                                               "other"]),
                                       "value": st.fixed_dictionaries({"path": names | json_values},
                                                                      optional={"content": content | json_values,
                                                                                "encoding": st.text(max_size=8)})})
    line = (header | operation | json_values).map(lambda item: json.dumps(item).encode())
    raw = st.binary(max_size=200) | st.integers(1, 5000).map(lambda depth: b"[" * depth)
    return st.lists(line | raw, min_size=0, max_size=6).map(lambda lines: b"\n".join(lines))


def fuzz_raw(url: str, tally: Tally, examples: int) -> None:
    """Requests the schema cannot describe: NDJSON commits, arbitrary path segments and header values."""
    sessions = [requests.Session()]
    segment = names.map(lambda text: quote(text.encode("utf-8", "surrogatepass"), safe=""))
    routes = st.sampled_from(["commit", "preupload", "tag", "branch", "resolve", "tree", "revision", "refs", "info",
                              "learner", "card"])
    header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60)

    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(route=routes, org=segment | st.just("local"), name=segment | st.just("igf-gpt2-kjv"), revision=segment |
           st.sampled_from(["main", "v1.0.0"]), path=segment | st.just("learner.json"), body=commit_lines(),
           authorised=st.booleans(), range_header=header_values, query=st.dictionaries(
               st.sampled_from(["version", "recursive", "search", "filter", "limit", "cursor", "page", "sort"]),
               st.text(max_size=20), max_size=3))
    def run(route, org, name, revision, path, body, authorised, range_header, query):
        if tally.done():
            return
        headers = {"Authorization": f"Bearer {TOKEN}"} if authorised else {}
        method, target = {
            "commit": ("POST", f"/api/models/{org}/{name}/commit/{revision}"),
            "preupload": ("POST", f"/api/models/{org}/{name}/preupload/{revision}"),
            "tag": ("POST", f"/api/models/{org}/{name}/tag/{revision}"),
            "branch": ("POST", f"/api/models/{org}/{name}/branch/{revision}"),
            "resolve": ("GET", f"/{org}/{name}/resolve/{revision}/{path}"),
            "tree": ("GET", f"/api/models/{org}/{name}/tree/{revision}/{path}"),
            "revision": ("GET", f"/api/models/{org}/{name}/revision/{revision}"),
            "refs": ("GET", f"/api/models/{org}/{name}/refs"),
            "info": ("GET", f"/api/models/{org}/{name}"),
            "learner": ("GET", f"/api/learners/{org}/{name}"),
            "card": ("GET", f"/learners/{org}/{name}"),
        }[route]
        if method == "GET":
            headers["Range"] = range_header
        try:
            response = sessions[0].request(method, url + target, params=query, headers=headers,
                                       data=body if method == "POST" else None, timeout=30)
            tally.record("raw", method, target, response.status_code,
                         response.text[:300] if response.status_code >= 500 else "")
        except DROPPED as error:
            tally.record("raw", method, target, None, repr(error))
            sessions[0] = requests.Session()   # a fresh connection for the next request
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, ValueError):
            tally.by_source["unsendable"] += 1   # refused by the client before sending: not a request

    run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=12000, help="Stop after this many requests.")
    parser.add_argument("--budget-seconds", type=float, default=300, help="Stop after this long.")
    parser.add_argument("--raw-share", type=float, default=0.3, help="Share of requests from the raw fuzzer.")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fuzz.json"))
    args = parser.parse_args()
    started_at = dt.datetime.now(dt.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="learnerhub-fuzz-") as sandbox:
        sandbox = Path(sandbox)
        store, cwd, canary = sandbox / "store", sandbox / "cwd", sandbox / "outside"
        cwd.mkdir()
        canary.mkdir()
        (canary / "canary.txt").write_text("must stay as it is\n")
        seed_store(store, sandbox / "work")
        before = snapshot(sandbox, skip=store)
        port = free_port()
        server = start_server(store, cwd, port, sandbox / "server.log")
        url = f"http://127.0.0.1:{port}"
        try:
            started = time.monotonic()
            raw_budget = int(args.requests * args.raw_share)
            tally = Tally(started + args.budget_seconds * (1 - args.raw_share), args.requests - raw_budget)
            schema = schemathesis.openapi.from_dict(requests.get(f"{url}/openapi.json", timeout=10).json())
            operations = sum(1 for _ in schema.get_all_operations())
            skipped = fuzz_schema(url, tally,
                                  per_operation=max(20, (args.requests - raw_budget) // (2 * operations) + 1))
            tally.deadline, tally.limit = started + args.budget_seconds, args.requests
            fuzz_raw(url, tally, examples=max(raw_budget, args.requests - tally.total))
            elapsed = time.monotonic() - started
            alive = server.poll() is None
        finally:
            server.terminate()
            server.wait(timeout=30)
        log = (sandbox / "server.log").read_text(errors="replace")
        after = snapshot(sandbox, skip=store)
        outside = sorted(set(after) ^ set(before) | {p for p in before if p in after and after[p] != before[p]
                                                      and not p.startswith("server.log")})
        outside = [p for p in outside if p != "server.log"]
        escaped = [str(p) for p in (store / "models").rglob("*") if p.is_symlink()]
    five_xx = sum(count for status, count in tally.statuses.items() if status >= 500)
    result = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date": started_at.isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "schemathesis": schemathesis.SCHEMATHESIS_VERSION,
                    "note": "run under nice -n 19 beside a long benchmark on the same 2 cores"},
        "goals": {"5xx": 0, "dropped_connections": 0, "writes_outside_store": 0},
        "requests": tally.total, "seconds": round(elapsed, 1), "operations_in_schema": operations,
        "5xx": five_xx, "dropped_connections": tally.dropped, "writes_outside_store": len(outside) + len(escaped),
        "server_alive_at_end": alive, "server_tracebacks": log.count("Traceback"),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())}, "by_source": dict(tally.by_source),
        "failures": tally.failures, "outside_paths": (outside + escaped)[:20], "skipped_operations": skipped,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("requests", "seconds", "5xx", "dropped_connections",
                                              "writes_outside_store", "server_tracebacks", "statuses")}, indent=2))


if __name__ == "__main__":
    main()
