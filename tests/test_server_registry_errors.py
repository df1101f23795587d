"""The server answers every registry error in one place (server.core.errors): the Hub's error shape with a status
from one table and the error named in X-Learnerhub-Error, never a bare 500."""

from __future__ import annotations

import inspect

import pytest
from fastapi.testclient import TestClient

import registry.errors
from registry.errors import RegistryError, StoreError, VersionDeletedError
from server import create_app
from server.core.errors import REGISTRY_ERRORS


def test_every_registry_error_class_has_an_answer_in_the_table():
    classes = [c for _, c in inspect.getmembers(registry.errors, inspect.isclass) if issubclass(c, RegistryError)]
    for kind in classes:
        status, _ = next(answer for base, answer in REGISTRY_ERRORS.items() if issubclass(kind, base))
        assert status != 500, kind


@pytest.mark.parametrize("error, status", [(VersionDeletedError("x version 1.1.0 was deleted"), 409),
                                           (StoreError("git failed: disk full"), 503),
                                           (RegistryError("some new refusal"), 422)])
def test_a_registry_error_raised_in_a_route_is_answered_in_the_hubs_shape(tmp_path, error, status):
    app = create_app(tmp_path / "store")

    @app.get("/raise")
    def _raise() -> dict:
        raise error

    answer = TestClient(app, raise_server_exceptions=False).get("/raise")
    assert answer.status_code == status and answer.json() == {"error": str(error)}
    assert answer.headers["X-Learnerhub-Error"] == type(error).__name__
    assert answer.headers["X-Error-Message"] == str(error)
