"""`learnerhub yank | unyank | delete | alias`: the version lifecycle (registry.lifecycle_actions)."""

from __future__ import annotations

import argparse
import json

from learnerhub.cli.registry_commands import add_store_arguments


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register the lifecycle subcommands on the `learnerhub` parser's subparsers."""
    yank = subparsers.add_parser("yank", help="Yank ORG/NAME@X.Y.Z: never chosen by a range or as latest again; an "
                                              "exact pin or a lock file still gets it.")
    yank.add_argument("reference", help="ORG/NAME@X.Y.Z")
    yank.add_argument("--reason", required=True, help="Why (shown on the card, the page and in `info`).")
    yank.set_defaults(handler=run_yank)

    unyank = subparsers.add_parser("unyank", help="Undo a yank of ORG/NAME@X.Y.Z.")
    unyank.add_argument("reference", help="ORG/NAME@X.Y.Z")
    unyank.add_argument("--reason", default="", help="Why (kept in the audit log).")
    unyank.set_defaults(handler=run_unyank)

    delete = subparsers.add_parser("delete", help="Delete ORG/NAME@X.Y.Z: its tag goes, its number is never reused "
                                                  "(needs a write token on an endpoint).")
    delete.add_argument("reference", help="ORG/NAME@X.Y.Z")
    delete.add_argument("--reason", required=True, help="Why (kept in the audit log).")
    delete.set_defaults(handler=run_delete)

    alias = subparsers.add_parser("alias", help="Show, set or remove named aliases (production, staging, ...) of "
                                                "ORG/NAME; `pull --version production` follows one.")
    alias.add_argument("repository", help="ORG/NAME")
    alias.add_argument("name", nargs="?", help="The alias (a lower-case word); without it, list the aliases.")
    alias.add_argument("version", nargs="?", help="X.Y.Z to point the alias at (creates or moves it).")
    alias.add_argument("--remove", action="store_true", help="Remove the alias NAME.")
    alias.add_argument("--reason", default="", help="Why (kept in the audit log).")
    alias.set_defaults(handler=run_alias)

    for parser in (yank, unyank, delete, alias):
        add_store_arguments(parser)
        parser.add_argument("--json", action="store_true", help="Print the repository's lifecycle as JSON.")


def _report(args, lifecycle, line: str) -> int:
    print(json.dumps(lifecycle.to_dict(), indent=2) if args.json else line)
    return 0


def run_yank(args) -> int:
    from registry.lifecycle_actions import yank

    lifecycle = yank(args.reference, reason=args.reason, store=args.store, endpoint=args.endpoint)
    return _report(args, lifecycle, f"Yanked {args.reference}: {args.reason}")


def run_unyank(args) -> int:
    from registry.lifecycle_actions import unyank

    lifecycle = unyank(args.reference, reason=args.reason, store=args.store, endpoint=args.endpoint)
    return _report(args, lifecycle, f"Un-yanked {args.reference}")


def run_delete(args) -> int:
    from registry.lifecycle_actions import delete_version

    lifecycle = delete_version(args.reference, reason=args.reason, store=args.store, endpoint=args.endpoint)
    return _report(args, lifecycle, f"Deleted {args.reference}: {args.reason}")


def run_alias(args) -> int:
    from cards.format.errors import UsageError
    from registry.lifecycle_actions import lifecycle, remove_alias, set_alias

    where = {"store": args.store, "endpoint": args.endpoint}
    if args.remove:
        if not args.name or args.version:
            raise UsageError("alias --remove takes ORG/NAME and the alias name only.")
        state = remove_alias(args.repository, args.name, reason=args.reason, **where)
        return _report(args, state, f"Removed alias {args.name} of {args.repository}")
    if args.name and args.version:
        state = set_alias(args.repository, args.name, args.version, reason=args.reason, **where)
        return _report(args, state, f"{args.repository}: {args.name} -> {args.version}")
    state = lifecycle(args.repository, **where)
    if args.name:
        if args.name not in state.aliases:
            raise UsageError(f"{args.repository} has no alias {args.name!r}; set one with "
                             f"`learnerhub alias {args.repository} {args.name} X.Y.Z`.")
        return _report(args, state, f"{args.name} -> {state.aliases[args.name]}")
    lines = [f"{name} -> {version}" for name, version in sorted(state.aliases.items())] or ["(no aliases)"]
    return _report(args, state, "\n".join(lines))
