"""Version parsing and "newest matching" picking, without a store."""

from __future__ import annotations

import pytest

from registry.errors import InvalidVersionError, VersionNotFoundError
from cards.format.naming import canonical_base_model, repository_name, same_base_model
from registry.naming import LearnerReference
from registry.versions import VersionSpec, parse_release

PUBLISHED = {"0.9.0": "a" * 40, "1.0.0": "b" * 40, "1.2.0": "c" * 40, "1.2.5": "d" * 40, "2.0.0rc1": "e" * 40,
             "2.1.0": "f" * 40}


@pytest.mark.parametrize("spec, expected", [
    (None, "2.1.0"), ("latest", "2.1.0"), ("1.2.0", "1.2.0"), ("v1.2.0", "1.2.0"), (">=1.0,<2", "1.2.5"),
    ("~=1.2", "1.2.5"), ("~=1.2.0", "1.2.5"), ("==1.*", "1.2.5"), ("<1", "0.9.0"), ("==2.0.0rc1", "2.0.0rc1"),
    ("d" * 40, "1.2.5"),
])
def test_newest_matching_version_is_picked(spec, expected):
    version, commit = VersionSpec.parse(spec).pick(PUBLISHED)
    assert version == expected and commit == PUBLISHED[expected]


def test_prereleases_are_skipped_unless_they_are_all_there_is():
    assert VersionSpec.parse(None).pick({"1.0.0rc1": "a" * 40, "0.1.0": "b" * 40})[0] == "0.1.0"
    assert VersionSpec.parse(None).pick({"1.0.0rc1": "a" * 40})[0] == "1.0.0rc1"


@pytest.mark.parametrize("spec", [">=3", "1.3.0", "0" * 40])
def test_no_match_lists_what_is_published(spec):
    with pytest.raises(VersionNotFoundError, match=r"published: 0\.9\.0, 1\.0\.0.*2\.1\.0"):
        VersionSpec.parse(spec).pick(PUBLISHED, repo_id="local/igf-x-kjv")


@pytest.mark.parametrize("text", ["1.0", "1", "1.0.0.0", "banana", "1.0.0+local", "1.0.0.post1"])
def test_publish_versions_must_be_semantic(text):
    with pytest.raises(InvalidVersionError, match="MAJOR.MINOR.PATCH"):
        parse_release(text)


def test_bad_spec_says_what_is_accepted():
    with pytest.raises(InvalidVersionError, match="commit sha"):
        VersionSpec.parse(">>1")


def test_names_say_what_a_learner_is():
    assert repository_name("igf", "HuggingFaceTB/SmolLM2-135M-Instruct", "kjv") == "igf-smollm2-135m-instruct-kjv"
    assert canonical_base_model("SmolLM2") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert same_base_model("smollm2", {"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct"})
    assert not same_base_model("gpt2", {"model_id": "HuggingFaceTB/SmolLM2-135M-Instruct"})
    assert LearnerReference.parse("local/igf-x@~=1.2") == LearnerReference("local/igf-x", "~=1.2")
