"""Census of stock Hugging Face client calls against `learnerhub serve`: which work, which are refused.

Each call of unmodified `huggingface_hub` (and the `hf` command line) a registry user reaches for is made
once against a real server on 127.0.0.1 holding a published learner; the outcome is recorded as `ok`,
`refused` (a 4xx, with its status and message: what the server does not support, said plainly) or
`broken` (a 5xx, a client-side failure or a wrong answer: what must not happen); learnerhub's own one-line refusals
(a LearnerHubError) count as `refused`. Results: results/hub_calls.json.

    python benchmarks/bench_hub_calls.py --out benchmarks/results/hub_calls.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ["HF_HUB_DISABLE_XET"] = "1"   # the server has no Xet storage (uploads go inline)
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

from huggingface_hub import (CommitOperationAdd, CommitOperationCopy, CommitOperationDelete, HfApi,  # noqa: E402
                             HfFileSystem, ModelCard, constants, hf_hub_download, snapshot_download)
from huggingface_hub.errors import HfHubHTTPError  # noqa: E402
from huggingface_hub.utils import get_session, hf_raise_for_status  # noqa: E402

sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[1] / "tests")]
from model_helpers import make_tiny_gpt2, synthetic_documents, train_tokenizer  # noqa: E402 (tiny learners)
from registry_helpers import make_learner_folder  # noqa: E402

import registry  # noqa: E402
from learners import load_learner  # noqa: E402
from cards.format.errors import LearnerHubError  # noqa: E402
from server import create_app  # noqa: E402
from server.core.auth import TokenRegistry  # noqa: E402
from server.testing import running_server  # noqa: E402

TOKEN, ORG_TOKEN = "census-write", "census-acme"
KJV = "local/igf-gpt2-kjv"


def calls(api: HfApi, url: str, work: Path, learner) -> list[tuple[str, object]]:
    """(name, zero-argument callable) for every call of the census, in the order a user meets them."""
    cache = work / "cache"
    short = api.model_info(KJV, revision="v1.0.0").sha[:7]
    folder = work / "upload"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "docs").mkdir()
    (folder / "docs" / "b.md").write_text("b")
    acme = HfApi(endpoint=url, token=ORG_TOKEN)
    anonymous = HfApi(endpoint=url, token=False)
    fs = HfFileSystem(endpoint=url, token=TOKEN)
    return [
        ("whoami", lambda: api.whoami()),
        ("auth_check", lambda: api.auth_check(KJV)),
        ("auth_check write", lambda: api.auth_check(KJV, write=True)),
        ("create_repo", lambda: api.create_repo("team/notes")),
        ("create_repo exist_ok", lambda: api.create_repo("team/notes", exist_ok=True)),
        ("create_repo private", lambda: api.create_repo("team/secret", private=True)),
        ("create_repo dataset (refused)", lambda: api.create_repo("team/data", repo_type="dataset")),
        ("repo_exists", lambda: api.repo_exists(KJV)),
        ("revision_exists", lambda: api.revision_exists(KJV, "v1.0.0")),
        ("file_exists", lambda: api.file_exists(KJV, "learner.json")),
        ("model_info", lambda: api.model_info(KJV)),
        ("model_info revision", lambda: api.model_info(KJV, revision="v1.0.0")),
        ("model_info files_metadata", lambda: api.model_info(KJV, files_metadata=True)),
        ("model_info anonymous private (404)", lambda: anonymous.model_info("team/secret")),
        ("list_models", lambda: list(api.list_models())),
        ("list_models search", lambda: list(api.list_models(search="kjv"))),
        ("list_models author", lambda: list(api.list_models(author="local"))),
        ("list_models filter library", lambda: list(api.list_models(filter="learnerhub"))),
        ("list_models sort", lambda: list(api.list_models(sort="last_modified"))),
        ("list_models cardData", lambda: list(api.list_models(cardData=True))),
        ("list_models limit", lambda: list(api.list_models(limit=1))),
        ("upload_file", lambda: api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="team/notes")),
        ("upload_folder", lambda: api.upload_folder(repo_id="team/notes", folder_path=folder)),
        ("create_commit add+delete", lambda: api.create_commit("team/notes", [
            CommitOperationAdd("c.txt", b"c"), CommitOperationDelete("x.txt")], commit_message="edit")),
        ("create_commit parent_commit", lambda: api.create_commit("team/notes", [CommitOperationAdd("d.txt", b"d")],
                                                                  commit_message="d",
                                                                  parent_commit=api.model_info("team/notes").sha)),
        ("CommitOperationCopy", lambda: api.create_commit("team/notes", [CommitOperationCopy("a.txt", "a2.txt")],
                                                          commit_message="copy")),
        ("delete_file", lambda: api.delete_file("a2.txt", "team/notes")),
        ("delete_folder", lambda: api.delete_folder("docs", "team/notes")),
        ("create_pull_request (refused)", lambda: api.upload_file(path_or_fileobj=b"p", path_in_repo="p.txt",
                                                                  repo_id="team/notes", create_pr=True)),
        ("list_repo_files", lambda: api.list_repo_files(KJV)),
        ("list_repo_tree", lambda: list(api.list_repo_tree(KJV))),
        ("list_repo_tree expand", lambda: list(api.list_repo_tree(KJV, expand=True))),
        ("get_paths_info", lambda: api.get_paths_info(KJV, ["learner.json"])),
        ("list_repo_refs", lambda: api.list_repo_refs(KJV)),
        ("list_repo_commits", lambda: api.list_repo_commits(KJV)),
        ("create_branch", lambda: api.create_branch("team/notes", branch="draft")),
        ("upload to branch", lambda: api.upload_file(path_or_fileobj=b"b", path_in_repo="b.txt", repo_id="team/notes",
                                                     revision="draft")),
        ("download from branch", lambda: hf_hub_download("team/notes", "b.txt", revision="draft", endpoint=url,
                                                         cache_dir=cache, token=TOKEN)),
        ("delete_branch", lambda: api.delete_branch("team/notes", branch="draft")),
        ("create_tag", lambda: api.create_tag("team/notes", tag="reviewed")),
        ("create_tag version on a non-learner (refused)", lambda: api.create_tag("team/notes", tag="v9.0.0")),
        ("delete_tag", lambda: api.delete_tag("team/notes", tag="reviewed")),
        ("delete_tag version (refused)", lambda: api.delete_tag(KJV, tag="v1.0.0")),
        ("hf_hub_download", lambda: hf_hub_download(KJV, "learner.json", endpoint=url, cache_dir=cache)),
        ("hf_hub_download tag", lambda: hf_hub_download(KJV, "learner.json", revision="v1.0.0", endpoint=url,
                                                        cache_dir=cache)),
        ("hf_hub_download private with token", lambda: hf_hub_download("team/secret", "README.md", endpoint=url,
                                                                       cache_dir=cache, token=TOKEN)
         if api.upload_file(path_or_fileobj=b"# s", path_in_repo="README.md", repo_id="team/secret") else None),
        ("snapshot_download", lambda: snapshot_download(KJV, endpoint=url, cache_dir=cache)),
        ("hf_hub_download short commit id", lambda: hf_hub_download(KJV, "learner.json", revision=short, endpoint=url,
                                                                    cache_dir=cache)),
        ("snapshot_download short commit id", lambda: snapshot_download(KJV, revision=short, endpoint=url,
                                                                        cache_dir=cache)),
        ("model_info short commit id", lambda: api.model_info(KJV, revision=short)),
        ("model_info unknown short commit id (404)", lambda: api.model_info(KJV, revision="0000000")),
        ("model_info createdAt is the first commit's date", lambda: check(
            api.model_info(KJV).created_at == list(api.list_repo_commits(KJV))[-1].created_at)),
        ("learnerhub pull, then offline hf_hub_download without revision", lambda: offline_after_pull(url, work)),
        ("super_squash_history (refused, explained)", lambda: api.super_squash_history(KJV)),
        ("duplicate_repo (refused, explained)", lambda: api.duplicate_repo(KJV, "team/copy")),
        ("unknown /api route (refused, explained)", lambda: hf_raise_for_status(
            get_session().get(f"{url}/api/models/{KJV}/no-such-route"))),
        ("learner.push_to_hub with assets", lambda: check("assets/perplexity.png" in learner.push_to_hub(
            "team", version="1.0.0", endpoint=url, token=TOKEN).files)),
        ("learner.push_to_hub without a token (refused, one line)", lambda: learner.push_to_hub(
            "team", version="1.0.1", endpoint=url, token="")),
        ("get_hf_file_metadata", lambda: api.get_hf_file_metadata(
            url=f"{url}/{KJV}/resolve/main/learner.json")),
        ("HfFileSystem ls", lambda: fs.ls(f"{KJV}", detail=False)),
        ("HfFileSystem open", lambda: fs.open(f"{KJV}/learner.json").read()),
        ("ModelCard.load", lambda: ModelCard.load(hf_hub_download(KJV, "README.md", endpoint=url, cache_dir=cache))),
        ("ModelCard.validate (HF_ENDPOINT)", lambda: subprocess.run(
            [sys.executable, "-c", "from huggingface_hub import ModelCard; import sys; "
                                   "ModelCard(open(sys.argv[1]).read()).validate()",
             hf_hub_download(KJV, "README.md", endpoint=url, cache_dir=cache)],
            env={**os.environ, "HF_ENDPOINT": url}, check=True, capture_output=True, timeout=60)),
        ("update_repo_settings private", lambda: api.update_repo_settings("team/notes", private=True)),
        ("update_repo_settings gated (refused)", lambda: api.update_repo_settings("team/notes", gated="auto")),
        ("list_user_repos", lambda: list(api.list_user_repos())),
        ("move_repo", lambda: api.move_repo("team/notes", "team/notes2")),
        ("move_repo with versions (refused)", lambda: api.move_repo(KJV, "team/kjv")),
        ("org token writes its org", lambda: acme.create_repo("acme/own")),
        ("org token writes another org (refused)", lambda: acme.create_repo("team/other")),
        ("org token reads another org's private (404)", lambda: acme.model_info("team/secret")),
        ("learnerhub yank (lifecycle branch commit)", lambda: registry.yank(f"{KJV}@1.1.0", reason="census",
                                                                            endpoint=url, token=TOKEN)),
        ("learnerhub alias", lambda: registry.set_alias(KJV, "production", "1.0.0", endpoint=url, token=TOKEN)),
        ("learnerhub pull by alias", lambda: registry.download("kjv", base_model="tiny/gpt2", version="production",
                                                               endpoint=url, token=TOKEN)),
        ("learnerhub delete version", lambda: registry.delete_version(f"{KJV}@1.1.0", reason="census", endpoint=url,
                                                                      token=TOKEN)),
        ("delete_repo", lambda: api.delete_repo("team/notes2")),
        ("delete_repo missing_ok", lambda: api.delete_repo("team/notes2", missing_ok=True)),
    ]


def check(condition: bool) -> None:
    """A call whose result must hold (AssertionError: the census records it as broken)."""
    if not condition:
        raise AssertionError("the answer is not what the Hub gives")


def offline_after_pull(url: str, work: Path) -> None:
    """`learnerhub pull` of the latest version, then the stock client with HF_HUB_OFFLINE=1 and no revision."""
    cache = work / "pulled"
    registry.download("kjv", base_model="tiny/gpt2", endpoint=url, cache_dir=cache, lock=None)
    subprocess.run([sys.executable, "-c", "import sys; from huggingface_hub import hf_hub_download; "
                    f"hf_hub_download({KJV!r}, 'learner.json', cache_dir=sys.argv[1])", str(cache)],
                   env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=True, capture_output=True, timeout=60)


def hf_commands(url: str, work: Path) -> list[tuple[str, list[str]]]:
    (work / "cli.txt").write_text("cli")
    short = HfApi(endpoint=url, token=TOKEN).model_info(KJV, revision="v1.0.0").sha[:7]
    return [("hf repos create", ["repos", "create", "team/cli"]),
            ("hf upload", ["upload", "team/cli", str(work / "cli.txt"), "cli.txt"]),
            ("hf download", ["download", KJV, "learner.json", "--cache-dir", str(work / "hf-cache")]),
            ("hf download --revision SHORT_SHA", ["download", KJV, "learner.json", "--revision", short,
                                                  "--cache-dir", str(work / "hf-cache")]),
            ("hf repos duplicate (refused, explained)", ["repos", "duplicate", KJV, "team/cli-copy"]),
            ("hf repos ls", ["repos", "ls", "--limit", "0"]),
            ("hf repos branch create", ["repos", "branch", "create", "team/cli", "b1"]),
            ("hf repos tag create", ["repos", "tag", "create", "team/cli", "t1"]),
            ("hf repos tag delete", ["repos", "tag", "delete", "team/cli", "t1", "--yes"]),
            ("hf repos settings", ["repos", "settings", "team/cli", "--private"]),
            ("hf repos delete", ["repos", "delete", "team/cli", "--yes"])]


def outcome(call) -> dict:
    try:
        call()
        return {"outcome": "ok"}
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        said = (error.server_message or str(error)).splitlines()[0][:200]
        return {"outcome": "refused" if status and 400 <= status < 500 else "broken", "status": status, "message": said}
    except LearnerHubError as error:   # learnerhub's own refusal: one line that says what to do
        lines = str(error).splitlines()
        return {"outcome": "refused" if len(lines) == 1 else "broken", "message": lines[0][:200] if lines else ""}
    except Exception as error:   # noqa: BLE001 (a census records every failure instead of stopping)
        return {"outcome": "broken", "error": f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/hub_calls.json")
    args = parser.parse_args()
    constants.HF_HUB_DISABLE_XET = True
    with tempfile.TemporaryDirectory(prefix="learnerhub-census-") as tmp:
        work = Path(tmp)
        os.environ["HF_HOME"] = str(work / "hf-home")
        tokenizer = train_tokenizer(synthetic_documents())
        model = make_tiny_gpt2(tokenizer)
        for seed, version in enumerate(("1.0.0", "1.1.0")):
            registry.publish(make_learner_folder(work / f"kjv-{seed}", model, tokenizer, seed=seed, plot=True),
                             version=version, store=work / "store")
        tokens = TokenRegistry.configure(tokens=[TOKEN], org_tokens={"acme": [ORG_TOKEN]}, environ={})
        with running_server(create_app(work / "store", tokens=tokens)) as url:
            api = HfApi(endpoint=url, token=TOKEN)
            learner = load_learner(make_learner_folder(work / "push", model, tokenizer, corpus="pushed", seed=7,
                                                       plot=True))
            results = [{"call": name, **outcome(call)} for name, call in calls(api, url, work, learner)]
            hf = str(Path(sys.executable).with_name("hf"))
            env = {**os.environ, "HF_ENDPOINT": url, "HF_TOKEN": TOKEN, "HF_HOME": str(work / "hf-cli"),
                   "NO_COLOR": "1"}
            for name, argv in hf_commands(url, work):
                done = subprocess.run([hf, *argv], env=env, capture_output=True, text=True, timeout=120)
                results.append({"call": name, "outcome": "ok" if done.returncode == 0 else "refused",
                                **({} if done.returncode == 0 else {"message": done.stderr.strip()[-200:]})})
    counts = {kind: sum(r["outcome"] == kind for r in results) for kind in ("ok", "refused", "broken")}
    report = {"command": "python benchmarks/bench_hub_calls.py --out " + args.out,
              "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}",
              "huggingface_hub": __import__("huggingface_hub").__version__, "counts": counts, "calls": results}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    for result in results:
        print(f"{result['outcome']:8} {result.get('status', ''):>4} {result['call']}"
              + (f"  ({result.get('message') or result.get('error')})" if result["outcome"] != "ok" else ""))
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
