"""Read one commit's files out of a store repository as plain data, checking every blob's id.

`git archive` (like a checkout) applies the repository's own `info/attributes` and `.gitattributes`
(`export-ignore`, `export-subst`, eol conversion) and runs any smudge filter its `config` names, so
whoever can write a shared store would run code as every user who pulls, and one `* export-ignore`
would empty a version. Here the tree is listed (`git ls-tree -r -z`) and blobs are read by id
(`git cat-file --batch`): neither consults attributes nor filters. Each blob's bytes are hashed as git
hashes them and compared with the id the tree records, which also catches an object file rewritten in
place (git does not check an object when it reads it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from ..constants import is_hosting_file
from ..errors import BrokenVersionError
from .git import git

#: Modes of regular files; a symlink (120000) or a submodule (160000) is never part of a learner version.
REGULAR_FILE_MODES = ("100644", "100755")


def commit_files(repository: Path, commit: str) -> dict[str, str]:
    """Path -> blob id of every file of `commit` a version is made of (hosting files such as `.gitattributes`
    left out); BrokenVersionError for an entry that is not a regular file or has an unsafe path."""
    files: dict[str, str] = {}
    for record in git(repository, "ls-tree", "-r", "-z", "--full-tree", commit).split(b"\0"):
        if not record:
            continue
        info, _, raw_path = record.partition(b"\t")
        mode, _kind, sha = info.decode("ascii", errors="replace").split(" ")
        path = _safe_path(raw_path)
        if mode not in REGULAR_FILE_MODES:
            raise BrokenVersionError(f"{path} is not a regular file (git mode {mode}: a symlink or submodule)")
        if not is_hosting_file(path):
            files[path] = sha
    return files


def export_commit(repository: Path, commit: str, destination: Path) -> list[str]:
    """Write the files of `commit` under `destination` (an empty folder); return their paths.

    Raises BrokenVersionError naming the first file whose object is missing or whose bytes do not hash to
    the id its tree records.
    """
    files = commit_files(repository, commit)
    paths = sorted(files)
    for path, content in zip(paths, read_blobs(repository, [files[p] for p in paths], names=paths)):
        target = destination.joinpath(*PurePosixPath(path).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return paths


def read_blobs(repository: Path, shas: list[str], *, names: list[str]) -> list[bytes]:
    """The bytes of each blob (one `git cat-file --batch`), each checked against its id."""
    if not shas:
        return []
    output = git(repository, "cat-file", "--batch", input="".join(f"{sha}\n" for sha in shas).encode())
    contents, position = [], 0
    for sha, name in zip(shas, names):
        end = output.find(b"\n", position)
        header = output[position:end].decode("ascii", errors="replace").split(" ")
        if end < 0 or len(header) != 3 or header[1] != "blob":
            raise BrokenVersionError(f"{name}: its object {sha[:12]} is missing or not a file")
        size = int(header[2])
        content = output[end + 1:end + 1 + size]
        position = end + 1 + size + 1
        if blob_id(content, len(sha)) != sha:
            raise BrokenVersionError(f"{name}: its object {sha[:12]} does not hold the bytes its id names (the "
                                     "object file was altered or corrupted)")
        contents.append(content)
    return contents


def blob_id(content: bytes, id_length: int = 40) -> str:
    """The id git gives `content` as a blob (sha1, or sha256 in a repository of 64-digit ids)."""
    digest = hashlib.sha256 if id_length == 64 else hashlib.sha1
    return digest(b"blob %d\0" % len(content) + content).hexdigest()


def _safe_path(raw: bytes) -> str:
    """A tree path as text, refused when it could leave the destination or name git's own folder."""
    try:
        path = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BrokenVersionError(f"the path {raw!r} is not UTF-8") from None
    parts = path.split("/")
    if path.startswith("/") or any(part in ("", ".", "..") or part.lower() == ".git" for part in parts):
        raise BrokenVersionError(f"the path {path!r} is unsafe")
    return path
