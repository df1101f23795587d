"""A damaged local Hub cache is called what it is, and a pull does not quietly fall back to an older version:
the published copy is downloaded afresh from the endpoint (not copied from the damaged cache) to tell the two
apart. Real server on 127.0.0.1, unmodified huggingface_hub."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from huggingface_hub import constants
from registry_helpers import isolated_learnerhub_home, no_xet, served_hub  # noqa: F401 (fixtures)

import registry
from registry.errors import BrokenVersionError, IntegrityError


def test_a_damaged_hub_cache_is_blamed_on_the_cache_not_the_server(tmp_path, tokenizer, no_xet,  # noqa: F811
                                                                    monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub-cache"))   # the default cache, as the CLI uses
    with served_hub(tmp_path, tokenizer) as hub:
        where = {"endpoint": hub["url"]}
        first = registry.download("kjv", base_model="tiny/gpt2", **where)
        assert first.version == "1.1.0"
        weights = Path(first.folder / "model.safetensors").resolve()   # the cache's blob behind the snapshot link
        damaged = bytearray(weights.read_bytes())
        damaged[-1] ^= 0xFF
        weights.write_bytes(bytes(damaged))
        with warnings.catch_warnings():
            warnings.simplefilter("error", registry.RegistryWarning)   # no "passed over": no silent downgrade
            with pytest.raises(IntegrityError) as refused:
                registry.download("kjv", base_model="tiny/gpt2", **where)
        assert not isinstance(refused.value, BrokenVersionError)
        message = str(refused.value)
        assert "local Hub cache's copy of local/igf-gpt2-kjv@1.1.0 is damaged" in message
        assert f"the copy on {hub['url']} is intact" in message and "model.safetensors" in message
