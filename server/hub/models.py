"""The Hub's view of a repository: ModelInfo JSON (sha, siblings, tags, cardData) built from git.

Tags are derived from the card's metadata as the Hub derives them (`base_model:*`, `dataset:*`,
`license:*`, the library and `library:*`), so `list_models(filter=...)` finds learners by corpus,
base model or library the same way on this server and on huggingface.co.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from registry.constants import CARD_FILE
from registry.local.repository_reader import RepositoryReader


def split_front_matter(text: str) -> tuple[str | None, str]:
    """(YAML block, markdown body) of a card; (None, text) without a front matter closed by a `---` line.

    The one reading of the card's fences, for its metadata, its validation and its rendering.
    """
    if not text.startswith("---"):
        return None, text
    block, closed, rest = text.partition("\n")[2].partition("\n---")
    if not closed:
        return None, text
    return block, rest.partition("\n")[2]


def card_metadata(text: str | None) -> dict[str, Any]:
    """The YAML front matter of a model card ({} when absent or unreadable)."""
    block = split_front_matter(text)[0] if text else None
    if block is None:
        return {}
    try:
        data = yaml.safe_load(block)
    except (yaml.YAMLError, RecursionError):
        return {}
    return json_safe(data) if isinstance(data, dict) else {}


def json_safe(value: Any, depth: int = 0) -> Any:
    """YAML values as JSON can carry them: dates become ISO strings, binary and other types are dropped,
    so one card's odd front matter cannot fail a listing's serialisation."""
    if depth > 32:
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items() if not isinstance(v, (bytes, bytearray))}
    if isinstance(value, list):
        return [json_safe(v, depth + 1) for v in value if not isinstance(v, (bytes, bytearray))]
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def derived_tags(card: dict[str, Any]) -> list[str]:
    """The card's own tags plus the ones the Hub derives from its metadata."""
    tags = [str(t) for t in _as_list(card.get("tags"))]
    if card.get("library_name"):
        tags += [str(card["library_name"]), f"library:{card['library_name']}"]
    tags += [f"base_model:{m}" for m in _as_list(card.get("base_model"))]
    tags += [f"dataset:{d}" for d in _as_list(card.get("datasets"))]
    tags += [f"license:{lic}" for lic in _as_list(card.get("license"))]
    return list(dict.fromkeys(tags))


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


@lru_cache(maxsize=16384)
def _card_at(reader: RepositoryReader, repo_id: str, commit: str) -> dict[str, Any]:
    return card_metadata(reader.read_text(repo_id, commit, CARD_FILE))


def model_info(reader: RepositoryReader, repo_id: str, commit: str | None, *, private: bool,
               with_card: bool = True, with_siblings: bool = True, blobs: bool = False) -> dict[str, Any]:
    """What `GET /api/models/{repo_id}[/revision/{rev}]` answers (commit None: an empty repository)."""
    card = _card_at(reader, repo_id, commit) if commit else {}
    info: dict[str, Any] = {"id": repo_id, "modelId": repo_id, "author": repo_id.split("/")[0], "sha": commit,
                            "private": private, "disabled": False, "gated": False, "downloads": 0, "likes": 0,
                            "library_name": card.get("library_name"), "tags": derived_tags(card),
                            "pipeline_tag": card.get("pipeline_tag")}
    if commit:
        info["lastModified"] = reader.commit_date(repo_id, commit)
        info["createdAt"] = reader.created_date(repo_id, commit)
    if with_card:
        info["cardData"] = card or None
    if with_siblings:
        tree = reader.tree(repo_id, commit) if commit else {}
        info["siblings"] = [{"rfilename": path, **({"size": e.size, "blobId": e.sha} if blobs else {})}
                            for path, e in sorted(tree.items())]
    return info


def matches_listing(info: dict[str, Any], *, search: str | None, author: str | None, filters: list[str]) -> bool:
    """`list_models` semantics: search is a substring of the id, author the namespace, every filter a tag."""
    if search and search.lower() not in info["id"].lower():
        return False
    if author and info["author"].lower() != author.lower():
        return False
    tags = {t.lower() for t in info["tags"]}
    return all(f.lower() in tags for f in filters)


#: `list_models(sort=...)` keys (the client sends lastModified, createdAt, downloads, likes, trendingScore).
SORT_KEYS = {"lastModified": "lastModified", "createdAt": "createdAt", "downloads": "downloads", "likes": "likes",
             "trendingScore": "downloads", "id": "id", "modelId": "id"}


def sorted_listing(infos: list[dict[str, Any]], sort: str | None, direction: str | None) -> list[dict[str, Any]]:
    """Sorted as the Hub sorts: by `sort`, descending unless `direction` is 1 (ties and no sort: by id)."""
    if direction not in (None, "", "-1", "1"):
        raise ValueError(f"direction must be -1 (descending) or 1 (ascending), not {direction!r}.")
    by_id = sorted(infos, key=lambda info: info["id"])
    if not sort:
        return by_id if direction != "-1" else by_id[::-1]
    if sort not in SORT_KEYS:
        raise ValueError(f"Cannot sort models by {sort!r}: use one of {', '.join(SORT_KEYS)}.")
    key = SORT_KEYS[sort]
    # Empty repositories (no date) come last either way, as on the Hub.
    present = [info for info in by_id if info.get(key) is not None]
    missing = [info for info in by_id if info.get(key) is None]
    return sorted(present, key=lambda info: info[key], reverse=direction != "1") + missing
