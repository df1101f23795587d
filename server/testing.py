"""Run the server inside the current process on an ephemeral loopback port (tests, notebooks, demos).

Example:
    >>> with running_server(create_app(tmp_path / "store", tokens=["t"])) as url:
    ...     HfApi(endpoint=url, token="t").list_models()
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


@contextmanager
def running_server(app, *, host: str = "127.0.0.1", startup_timeout: float = 20.0) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free port; yield its base URL; stop it on exit."""
    config = uvicorn.Config(app, host=host, port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="learnerhub-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("The learnerhub server did not start (see the log above).")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
