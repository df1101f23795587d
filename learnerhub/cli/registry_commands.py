"""`learnerhub publish | pull | list | info`, added to the `learnerhub` parser by `add_commands`."""

from __future__ import annotations

import argparse
import json
import sys

from learnerhub.cli.arguments import add_kind_argument
from cards.format.errors import UsageError
from cards.format.constants import DEFAULT_KIND, LEARNER_FILE
from cards.format.kinds import learner_kinds

from registry.constants import DEFAULT_ORG, LOCK_FILE


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the registry's subcommands on the `learnerhub` parser's subparsers."""
    publish = subparsers.add_parser("publish", help="Publish a learner folder as a new immutable version.")
    publish.add_argument("folder", help="Learner folder (config.json, model.safetensors, learner.json, assets/).")
    publish.add_argument("--version", required=True, help="Semantic version X.Y.Z (tag vX.Y.Z).")
    publish.add_argument("--org", default=DEFAULT_ORG, help=f"Organisation (default {DEFAULT_ORG}).")
    add_store_arguments(publish)
    publish.add_argument("--json", action="store_true", help="Print the result as JSON.")
    publish.set_defaults(handler=run_publish)

    pull = subparsers.add_parser("pull", help="Resolve, download and verify the learner for a corpus, or ORG/NAME.")
    pull.add_argument("corpus", help="Corpus name (or the dataset id recorded by the learner) with --base-model; "
                                     "without it, a repository: ORG/NAME or ORG/NAME@VERSION (as `info` takes).")
    pull.add_argument("--base-model", help="Base model id, path, or `smollm2` (needed to pull by corpus, except for a "
                                           "kind that works with any base model, such as igf_text).")
    add_kind_argument(pull)
    pull.add_argument("--version", help="1.2.0, >=1.0,<2, ~=1.2, an alias (production) or a commit sha, full or "
                                        "the 12 digits learnerhub prints (default: newest; a yanked version only "
                                        "when pinned exactly).")
    pull.add_argument("--org", help="Organisation, when several hold a learner for the corpus.")
    add_store_arguments(pull)
    pull.add_argument("--lock", default=LOCK_FILE, help=f"Lock file to record the resolution in (default {LOCK_FILE}).")
    pull.add_argument("--no-lock", action="store_true", help="Do not write a lock file.")
    pull.add_argument("--locked", action="store_true", help="Reproduce exactly what the lock file records.")
    pull.add_argument("--json", action="store_true", help="Print the resolution as JSON.")
    pull.set_defaults(handler=run_pull)

    listing = subparsers.add_parser("list", help="List the learners in a store (`*` wildcards allowed).")
    listing.add_argument("--corpus", help="Target corpus name or dataset id, e.g. 'kjv*'.")
    listing.add_argument("--base-model", help="Base model id or alias, e.g. smollm2.")
    listing.add_argument("--kind", help=f"Learner kind ({', '.join(learner_kinds())}; wildcards allowed).")
    listing.add_argument("--org", help="Organisation that published the learner.")
    listing.add_argument("--refresh", action="store_true", help="Re-check every repository's refs (local store).")
    add_store_arguments(listing)
    listing.add_argument("--json", action="store_true", help="Print JSON lines, one learner each.")
    listing.set_defaults(handler=run_list)

    info = subparsers.add_parser("info", help="Describe ORG/NAME[@VERSION]: versions, commit, metrics, files.")
    info.add_argument("reference", help="ORG/NAME or ORG/NAME@VERSION (a spec, an alias or a commit sha).")
    add_store_arguments(info)
    info.add_argument("--json", action="store_true", help="Print JSON.")
    info.set_defaults(handler=run_info)


def add_store_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--store", help="Local store folder (default $LEARNERHUB_STORE or LEARNERHUB_HOME/store).")
    where.add_argument("--endpoint", help="A Hub-compatible server, e.g. https://huggingface.co (token: HF_TOKEN).")


def run_publish(args) -> int:
    from registry.client import publish

    published = publish(args.folder, version=args.version, org=args.org, store=args.store, endpoint=args.endpoint)
    if args.json:
        print(json.dumps(published.to_dict(), indent=2))
    else:
        print(f"Published {published.repo_id}@{published.version} (commit {published.commit[:12]}"
              f"{', now main' if published.is_latest else ''}) to {published.store}")
    return 0


def run_pull(args) -> int:
    from registry.client import download, download_reference
    from registry.errors import LearnerNotFoundError, WrongBaseModelError

    lock = None if args.no_lock else args.lock
    # ORG/NAME@VERSION is a repository, never a corpus name; ORG/NAME too without --base-model. With it, ORG/NAME is
    # first a dataset id (HuggingFaceFW/fineweb), then, when no learner has that corpus, a repository checked against
    # the base model. By corpus, --base-model is needed only when the kind is built for one (LearnerIdentity.requested).
    if "@" in args.corpus or ("/" in args.corpus and args.base_model is None):
        resolution = download_reference(_reference(args), base_model=args.base_model, store=args.store,
                                        endpoint=args.endpoint, lock=lock)
    else:
        try:
            resolution = download(args.corpus, base_model=args.base_model, kind=args.kind, version=args.version,
                                  org=args.org, store=args.store, endpoint=args.endpoint, lock=lock,
                                  locked=args.locked)
        except LearnerNotFoundError as by_corpus:
            if ("/" not in args.corpus or isinstance(by_corpus, WrongBaseModelError) or args.locked or args.org
                    or args.kind != DEFAULT_KIND):
                raise
            try:
                resolution = download_reference(_reference(args), base_model=args.base_model, store=args.store,
                                                endpoint=args.endpoint, lock=lock)
            except WrongBaseModelError:
                raise
            except LearnerNotFoundError:   # no such repository either: the corpus error says what the store has
                raise by_corpus from None
    if args.json:
        print(json.dumps(resolution.to_dict(), indent=2))
    else:
        print(f"{resolution.repo_id}@{resolution.version} (commit {resolution.commit[:12]}), "
              f"{len(resolution.files)} files verified, in {resolution.folder}")
    return 0


def _reference(args) -> str:
    """ORG/NAME[@VERSION] from `pull`'s arguments; options that only select by corpus are refused, not ignored."""
    if "/" not in args.corpus:
        raise UsageError(f"{args.corpus!r} is a corpus: give --base-model too, or pull a "
                         "repository as ORG/NAME[@VERSION].")
    if args.locked or args.org or args.kind != DEFAULT_KIND:
        raise UsageError("pull ORG/NAME: --locked, --org and --kind select by corpus; the repository "
                         "already names one learner (pull by corpus with --base-model to use them).")
    if args.version and "@" in args.corpus:
        raise UsageError("Give the version once, as ORG/NAME@VERSION or as --version.")
    return f"{args.corpus}@{args.version}" if args.version else args.corpus


def run_list(args) -> int:
    from registry.client import list_learners

    learners = list_learners(corpus=args.corpus, base_model=args.base_model, kind=args.kind, org=args.org,
                             store=args.store, endpoint=args.endpoint, refresh=args.refresh)
    heads = _latest_headlines(learners, args)
    if not learners:
        _suggest_filters(args)
    if args.json:
        sys.stdout.writelines(json.dumps({**learner.to_dict(), "headline": _as_dict(heads[learner.repo_id])}) + "\n"
                              for learner in learners)
        return 0
    rows = [("REPOSITORY", "KIND", "BASE MODEL", "CORPUS", "LATEST", "VERSIONS", "EFFECT (ratio [95% CI], p, seeds)")]
    rows += [(s.repo_id, s.kind or "?", s.base_model or "?", s.corpus or "?", s.latest or "-",
              str(len(s.versions.split())), _effect_cell(heads[s.repo_id])) for s in learners]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    sys.stdout.writelines("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n"
                          for row in rows)
    if not learners:
        print("(no learners match)")
    return 0


def _suggest_filters(args) -> None:
    """When nothing matches, "did you mean" on stderr for each filter spelled unlike anything in the store (or,
    for --kind, unlike every kind learnerhub knows); a filter with `*` is a pattern, taken as meant."""
    from cards.format.constants import SMOLLM2_ALIAS
    from cards.suggestions import did_you_mean
    from registry.client import list_learners

    everything = list_learners(store=args.store, endpoint=args.endpoint)
    known = {"corpus": {n for s in everything for n in (s.corpus, s.dataset_id) if n},
             "base_model": {s.base_model for s in everything if s.base_model} | {SMOLLM2_ALIAS},
             "kind": {s.kind for s in everything if s.kind} | set(learner_kinds()),
             "org": {s.repo_id.split("/")[0] for s in everything}}
    for name, values in known.items():
        typed = getattr(args, name)
        hint = did_you_mean(typed, values) if typed and "*" not in typed and typed not in values else ""
        if hint:
            print(f"learnerhub: no learner has --{name.replace('_', '-')} {typed!r}.{hint}", file=sys.stderr)


def _latest_headlines(learners, args) -> dict:
    """Each listed learner's headline effect at its latest version (None: unevaluated or unreadable): one
    learner.json read each, so `list` says which learners help without an `info` per learner."""
    from cards.model_card.headline import headline
    from registry.store_choice import open_store

    if not learners:
        return {}
    opened = open_store(args.store, endpoint=args.endpoint)
    heads = {}
    for summary in learners:
        try:
            commit = opened.versions(summary.repo_id)[summary.latest]
            heads[summary.repo_id] = headline(json.loads(opened.read_file(summary.repo_id, commit, LEARNER_FILE)))
        except Exception:   # a damaged version is listed without its effect; `info` names the problem
            heads[summary.repo_id] = None
    return heads


def _effect_cell(head) -> str:
    if head is None:
        return "not evaluated"
    p_value = f"p={head.p_value:.2g}" if head.p_value is not None else "p=?"
    return f"{head.ratio_with_ci} {p_value} {head.seeds or '?'} seeds: {head.words}"


def _as_dict(head) -> dict | None:
    return head.to_dict() if head is not None else None


def run_info(args) -> int:
    from registry.client import info

    from cards.model_card.headline import headline

    described = info(args.reference, store=args.store, endpoint=args.endpoint)
    head = headline(described.learner)
    if args.json:
        print(json.dumps({**described.to_dict(), "headline": _as_dict(head)}, indent=2))
        return 0
    learner = described.learner
    print(f"{described.repo_id}@{described.version}  commit {described.commit}\n"
          f"  kind {learner['kind']}, base model {learner['base_model'].get('model_id')}, "
          f"corpus {learner['corpus']['name']}\n"
          "  versions: "
          f"{', '.join(_shown(v, described.lifecycle) for v in sorted(described.versions, key=_version_key))}")
    if described.yanked is not None:
        print(f"  YANKED: {described.yanked or 'no reason given'} (chosen only by an exact pin)")
    for name, version in sorted(described.lifecycle.aliases.items()):
        print(f"  alias {name} -> {version}")
    for line in described.lifecycle.history()[-5:]:
        print(f"  history: {line}")
    if head is None:
        print("  effect: not evaluated: measure it with `learnerhub eval FOLDER --corpus POOL --target TARGET`")
    else:
        print(f"  effect ({head.regime}): igf / standard test perplexity {head.line}")
        if head.vs_random is not None:
            rate = f"{head.acceptance_rate:.2f}" if head.acceptance_rate is not None else "?"
            print(f"  vs random at its rate {rate}: "
                  f"ratio {head.vs_random:.3f}{': loses to random' if head.loses_to_random else ''}")
    print("  build metrics (learner.json):")
    for name, value in sorted(learner.get("metrics", {}).items()):
        print(f"    {name}: {value}")
    print("  files (sha256):")
    for name, digest in described.files.items():
        print(f"    {digest[:16]}  {name}")
    return 0


def _shown(version: str, lifecycle) -> str:
    return f"{version} (yanked)" if version in lifecycle.yanked else version


def _version_key(text: str):
    from packaging.version import Version

    return Version(text)
