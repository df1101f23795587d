"""The shapes of request bodies, checked at the door: types, sizes, NUL and nesting, before any work.

Write routes read their body only once the token check passed (FastAPI would otherwise parse a body
before running dependencies, so an anonymous client could make the server hold 256 MB); the body is
read up to a per-route limit and parsed by pydantic's JSON parser, which refuses lone surrogates,
invalid UTF-8 and deep nesting. Every failure is a 4xx in the Hub's shape naming the field, never the
input (which may be huge or unprintable).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from registry.local.repository_writer import CommitRequest

from .errors import HubError, unprocessable
from .paths import check_file_path

SMALL_BODY_BYTES = 1 << 20        # create, tag: a few fields
LISTING_BODY_BYTES = 16 << 20     # preupload (a sample per file), validate-yaml (a card)
MAX_SUMMARY_CHARS = 4096
MAX_DESCRIPTION_CHARS = 65536
MAX_PREUPLOAD_FILES = 10_000


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    return text


Text = Annotated[StrictStr, AfterValidator(_no_nul)]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class CreateRepoPayload(_Payload):
    name: Text = Field(max_length=96)
    organization: Text | None = Field(default=None, max_length=96)
    type: Text | None = Field(default=None, max_length=32)
    private: StrictBool | None = None
    visibility: Text | None = Field(default=None, max_length=16)


class TagPayload(_Payload):
    tag: Text = Field(max_length=128)
    message: Text | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)


class BranchPayload(_Payload):
    startingPoint: Text | None = Field(default=None, max_length=128)


class PreuploadFile(_Payload):
    path: Text = Field(max_length=1024)
    size: StrictInt | None = Field(default=None, ge=0)
    sample: Text | None = Field(default=None, max_length=4096)


class PreuploadPayload(_Payload):
    files: list[PreuploadFile] = Field(max_length=MAX_PREUPLOAD_FILES)


class ValidateYamlPayload(_Payload):
    content: Text | None = None
    repoType: Text | None = None


class CommitLine(_Payload):
    """One NDJSON line of a commit: an operation and its value (checked by the operation's own model)."""

    key: Literal["header", "file", "deletedFile", "deletedFolder", "lfsFile"]
    value: dict[str, Any]


class CommitHeader(_Payload):
    summary: Text | None = Field(default=None, max_length=MAX_SUMMARY_CHARS)
    description: Text | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    parentCommit: Text | None = Field(default=None, pattern=r"^[0-9a-f]{40}$")


class CommitFile(_Payload):
    path: Text = Field(max_length=1024)
    content: StrictStr = ""
    encoding: Text = "base64"


class CommitDeletion(_Payload):
    path: Text = Field(max_length=1024)


Model = TypeVar("Model", bound=BaseModel)


def parse(model: type[Model], data: bytes | dict[str, Any], *, what: str) -> Model:
    """`data` (JSON bytes, or an already parsed object) as `model`; 422 naming the first bad fields."""
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as error:
        raise unprocessable(f"Invalid {what}: {describe(error)}") from None


def describe(error: ValidationError) -> str:
    """`loc: message` of the first three problems, without the input values (they may be huge or binary)."""
    problems = [f"{'.'.join(map(str, e.get('loc', ()))) or 'body'}: {e.get('msg')}" for e in error.errors()[:3]]
    return "; ".join(problems)


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it passes `limit` bytes; call after the token check."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_payload(request: Request, model: type[Model], *, limit: int = SMALL_BODY_BYTES) -> Model:
    return parse(model, await read_body(request, limit), what="request body")


def _too_large(limit: int) -> HubError:
    return HubError(413, f"Request body too large: this route accepts at most {limit} bytes.", code="PayloadTooLarge")


def openapi_body(model: type[BaseModel], *, media_type: str = "application/json") -> dict[str, Any]:
    """`openapi_extra` documenting a body read by hand (so clients and fuzzers still see its schema)."""
    return {"requestBody": {"required": True, "content": {media_type: {"schema": _inline(model.model_json_schema())}}}}


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Resolve the `$defs` references pydantic emits (OpenAPI would look for them under components)."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


def parse_commit(body: bytes) -> CommitRequest:
    """The client's NDJSON commit payload (header first, then operations); anything malformed is a 422."""
    request: CommitRequest | None = None
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        item = parse(CommitLine, line, what=f"commit line {number}")
        what = f"commit line {number} ({item.key})"
        if item.key == "header":
            header = parse(CommitHeader, item.value, what=what)
            request = CommitRequest(summary=header.summary or "Commit", description=header.description or "",
                                    parent_commit=header.parentCommit)
            continue
        if request is None:
            raise unprocessable("A commit starts with its header line ({\"key\": \"header\", ...}).")
        if item.key == "file":
            file = parse(CommitFile, item.value, what=what)
            path = check_file_path(file.path)
            if file.encoding != "base64":
                raise unprocessable(f"{path}: only base64 file content is supported.")
            try:
                request.additions[path] = base64.b64decode(file.content, validate=True)
            except (binascii.Error, ValueError):
                raise unprocessable(f"{path}: content is not valid base64.") from None
        elif item.key == "lfsFile":
            raise unprocessable("This server stores no LFS objects; set HF_HUB_DISABLE_XET=1 and upload regular "
                                "files (preupload answers 'regular').")
        else:
            deletion = parse(CommitDeletion, item.value, what=what)
            if item.key == "deletedFile":
                request.deleted_files.append(check_file_path(deletion.path))
            else:
                request.deleted_folders.append(check_file_path(deletion.path.strip("/")))
    if request is None:
        raise unprocessable("Empty commit payload: expected NDJSON lines, the first one the header.")
    return request
