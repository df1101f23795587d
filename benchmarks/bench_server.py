"""Server throughput and latency with 1,000 learners: the browse list endpoint and a resolve download.

Goals: >= 500 requests/s on the list endpoint with p99 < 50 ms; the download path no more than 2x slower
than `python -m http.server` serving the same file. One uvicorn worker in a subprocess; load from a second
process on loopback (`wrk`, Debian package `wrk`), each target measured `--repeats` times, medians kept.

The store is made of real git repositories: 10 learners published through `registry.publish` (10
corpora), each copied into 100 organisations (byte-identical repositories, as a mirror would hold).

    .venv/bin/python benchmarks/bench_server.py [--learners 1000] [--seconds 8] [--repeats 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import registry  # noqa: E402
from model_helpers import make_tiny_gpt2, synthetic_documents, train_tokenizer  # noqa: E402
from registry_helpers import make_learner_folder  # noqa: E402

SEED = 0
CORPORA = 10
SERVE = ("import sys, uvicorn; from server import create_app; "
         "uvicorn.run(create_app(sys.argv[1]), host='127.0.0.1', port=int(sys.argv[2]), workers=1, "
         "log_level='warning', access_log=False)")


def build_store(work: Path, learners: int) -> Path:
    tokenizer = train_tokenizer(synthetic_documents(seed=SEED))
    model = make_tiny_gpt2(tokenizer, seed=SEED)
    seed_store, store = work / "seed-store", work / "store"
    for index in range(CORPORA):
        folder = make_learner_folder(work / f"learner-{index}", model, tokenizer, corpus=f"corpus{index:02d}",
                                     seed=index, plot=True,
                                     metrics={"test_perplexity_standard": 40.0, "test_perplexity_igf": 30.0 + index,
                                              "test_spearman": 0.3 + index / 100})
        registry.publish(folder, version="1.0.0", store=seed_store)
    repositories = sorted((seed_store / "models" / "local").iterdir())
    for org_index in range(learners // CORPORA):
        for repository in repositories:
            shutil.copytree(repository, store / "models" / f"org{org_index:03d}" / repository.name)
    assert len(registry.list_learners(store=store)) == learners  # builds the listing index once
    return store


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list[str], url: str, cwd: Path | None = None) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{command} did not answer {url}")


def wrk(url: str, *, seconds: int, connections: int) -> dict:
    """One wrk run: requests/s and latency percentiles (ms), errors counted."""
    output = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url],
                            capture_output=True, text=True, check=True).stdout
    def milliseconds(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return round(float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit], 3)

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {"requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p50_ms": milliseconds("50%"), "p99_ms": milliseconds("99%"),
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else None}


def measure(url: str, *, seconds: int, connections: int, repeats: int) -> dict:
    runs = [wrk(url, seconds=seconds, connections=connections) for _ in range(repeats)]
    return {"url": url, "runs": runs,
            **{f"median_{key}": statistics.median(run[key] for run in runs)
               for key in ("requests_per_s", "p50_ms", "p99_ms")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=8, help="Length of one wrk run.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "server.json"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench_server.py needs wrk: apt-get install -y wrk")
    options = {"seconds": args.seconds, "connections": args.connections, "repeats": args.repeats}
    with tempfile.TemporaryDirectory(prefix="bench-server-") as scratch:
        work = Path(scratch)
        started = time.perf_counter()
        store = build_store(work, args.learners)
        build_seconds = time.perf_counter() - started
        repo_id = "org000/igf-gpt2-corpus00"
        content = (store / "models" / repo_id / "HEAD").parent
        port, static_port = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        server = start([sys.executable, "-c", SERVE, str(store), str(port)], f"{base}/api/learners", cwd=ROOT)
        static_dir = work / "static"
        static_dir.mkdir()
        blob = subprocess.run(["git", f"--git-dir={content}", "cat-file", "blob", "v1.0.0:model.safetensors"],
                              capture_output=True, check=True).stdout
        (static_dir / "model.safetensors").write_bytes(blob)
        static = start([sys.executable, "-m", "http.server", str(static_port), "--bind", "127.0.0.1",
                        "--directory", str(static_dir)], f"http://127.0.0.1:{static_port}/model.safetensors")
        try:
            first = time.perf_counter()
            httpx.get(f"{base}/api/learners", params={"sort": "perplexity_ratio"}, timeout=120).raise_for_status()
            cold_sorted_list_s = time.perf_counter() - first  # reads learner.json of all 1,000 learners once
            server.terminate()   # a restart: the facts read are kept in the store, beside its index
            server.wait(10)
            server = start([sys.executable, "-c", SERVE, str(store), str(port)], f"{base}/api/learners", cwd=ROOT)
            again = time.perf_counter()
            httpx.get(f"{base}/api/learners", params={"sort": "perplexity_ratio"}, timeout=120).raise_for_status()
            restarted_sorted_list_s = time.perf_counter() - again
            results = {
                "list": measure(f"{base}/api/learners?per_page=20", **options),
                "list_search_sorted": measure(f"{base}/api/learners?search=corpus03&sort=perplexity_ratio", **options),
                "resolve_download": measure(f"{base}/{repo_id}/resolve/v1.0.0/model.safetensors", **options),
                "static_file_server": measure(f"http://127.0.0.1:{static_port}/model.safetensors", **options),
            }
        finally:
            server.terminate()
            static.terminate()
            server.wait(10)
            static.wait(10)
    static_rate = results["static_file_server"]["median_requests_per_s"]
    ratio = static_rate / results["resolve_download"]["median_requests_per_s"]
    goals = {"list_requests_per_s_at_least_500": results["list"]["median_requests_per_s"] >= 500,
             "list_p99_under_50_ms": results["list"]["median_p99_ms"] < 50,
             "download_at_most_2x_slower_than_static": ratio <= 2.0}
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    "versions": _versions()},
        "setup": {"learners": args.learners, "store_build_s": round(build_seconds, 1),
                  "cold_sorted_list_s": round(cold_sorted_list_s, 2),
                  "restarted_sorted_list_s": round(restarted_sorted_list_s, 3), "file_bytes": len(blob),
                  "uvicorn_workers": 1, "load": f"wrk -t1 -c{args.connections} -d{args.seconds}s, "
                                                f"{args.repeats} runs per target, medians", "seed": SEED},
        "results": results,
        "static_over_resolve_throughput_ratio": round(ratio, 3),
        "goals_met": goals,
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("setup", "static_over_resolve_throughput_ratio", "goals_met")}, indent=2))
    for name, result in results.items():
        print(f"{name:22s} {result['median_requests_per_s']:8.0f} req/s  p50 {result['median_p50_ms']:.2f} ms  "
              f"p99 {result['median_p99_ms']:.2f} ms")


def _versions() -> dict:
    from importlib.metadata import version

    names = ("fastapi", "starlette", "uvicorn", "httptools", "uvloop", "huggingface_hub", "torch")
    found = {}
    for name in names:
        try:
            found[name] = version(name)
        except Exception:
            found[name] = None
    found["wrk"] = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0][:60]
    return found


if __name__ == "__main__":
    main()
