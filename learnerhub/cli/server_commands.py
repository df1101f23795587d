"""`learnerhub serve`, added to the `learnerhub` parser by `add_commands`."""

from __future__ import annotations

import argparse

from learnerhub.cli.inputs import port_number
from cards.format.errors import UsageError


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `serve` on the `learnerhub` parser's subparsers."""
    serve = subparsers.add_parser(
        "serve", help="Serve a store: browse API and pages, and a Hugging Face Hub-compatible API.",
        description="Writes need a bearer token: LEARNERHUB_TOKENS (comma-separated), LEARNERHUB_ORG_TOKENS "
                    "(tokens limited to organisations: acme=T1,T2;beta=T3) or --tokens-file (one sha256 hex digest a "
                    "line, optionally followed by read|write and the organisations it is limited to). Reads are "
                    "public unless --private-reads; private repositories need a token covering their organisation.")
    serve.add_argument("--store", help="Local store folder (default $LEARNERHUB_STORE or LEARNERHUB_HOME/store).")
    serve.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
    serve.add_argument("--port", type=port_number, default=8080, help="Port (default 8080; 0 picks a free one).")
    serve.add_argument("--tokens-file", help="File of sha256 hashes of accepted tokens (`printf %%s T | sha256sum`).")
    serve.add_argument("--private-reads", action="store_true", help="Reads need a token too.")
    serve.add_argument("--max-body-mb", type=float, default=256, help="Largest request body accepted (MiB).")
    serve.add_argument("--log-level", default="info", help="uvicorn log level (default info).")
    serve.set_defaults(handler=run_serve)


def run_serve(args) -> int:
    import uvicorn

    from registry.constants import default_store_path

    from server.app import create_app
    from server.core.auth import TokenRegistry

    try:
        tokens = TokenRegistry.configure(tokens_file=args.tokens_file, private_reads=args.private_reads)
    except (ValueError, OSError) as error:   # a plain token, a missing or unreadable file
        raise UsageError(f"Tokens: {error}") from None
    if not tokens.hashes:
        print("learnerhub serve: no tokens configured (LEARNERHUB_TOKENS or --tokens-file): the store is read-only.")
    try:
        app = create_app(args.store or default_store_path(), tokens=tokens,
                         max_body_bytes=int(args.max_body_mb * (1 << 20)))
    except OSError as error:   # the store is a file, or cannot be created
        raise UsageError(f"Cannot serve the store {args.store or default_store_path()}: {error}") from None
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, workers=1)
    return 0
