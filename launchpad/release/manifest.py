"""The release manifest, its id, the secrets version and the desired-release pointer.

A manifest (`releases/<id>.json` in the store) says everything the host needs to run
one release besides the artifact's bytes: which artifact, the entry point, env,
which secrets (names and a version, never values), release command, health path,
static map, writable folders, sizing. Its `id` is the first 12 hex of the sha256 of
the canonical manifest without `created` (and without `id`): the same inputs give the
same id, so re-publishing is a no-op, and any change of code, dependencies, env,
secrets or command gives a new release. The exact shape is the release contract in
/work/plan.md, shared with the host agent (files/agent/).

The secrets version is an HMAC of the sorted names and values keyed with the stack
name: it changes whenever a value does, differs between stacks holding the same
values, and stores no value. A guessable secret (a short word) could be confirmed
against it by someone who can read the manifest, like against any hash of it:
use random secrets (the README says so).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

SCHEMA = 1
ID = re.compile(r"^[0-9a-f]{12}$")
DESIRED = "desired.json"


class ManifestError(ValueError):
    """A manifest or pointer that does not follow the release contract."""


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical(data: Mapping[str, Any]) -> bytes:
    """The one byte form hashes are taken over: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def secrets_version(values: Mapping[str, str], stack: str) -> str:
    """16 hex naming this exact set of secret values for this stack; empty without secrets."""
    if not values:
        return ""
    message = canonical(sorted((str(k), str(v)) for k, v in values.items()))  # type: ignore[arg-type]
    return hmac.new(f"launchpad-secrets:{stack}".encode(), message, hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class Secrets:
    version: str = ""
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    id: str
    created: str
    artifact: str
    artifact_bytes: int
    source_hash: str
    deps_hash: str
    deps: str
    app: str
    module: str
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Secrets = field(default_factory=Secrets)
    release_command: str | None = None
    health_path: str | None = None
    static: Mapping[str, str] = field(default_factory=dict)
    writable: tuple[str, ...] = ()
    workers: int | None = None
    threads: int | None = None
    keep: int = 5
    schema: int = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["env"] = dict(sorted(self.env.items()))
        data["static"] = dict(sorted(self.static.items()))
        data["writable"] = list(self.writable)
        data["secrets"] = {"version": self.secrets.version, "names": sorted(self.secrets.names)}
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def content_id(self) -> str:
        data = self.to_dict()
        del data["id"], data["created"]
        return hashlib.sha256(canonical(data)).hexdigest()[:12]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], verify: bool = True) -> Manifest:
        if data.get("schema") != SCHEMA:
            raise ManifestError(f"manifest schema {data.get('schema')!r}: this Launchpad reads schema {SCHEMA}")
        try:
            secrets = data.get("secrets") or {}
            manifest = cls(**{
                **{k: v for k, v in data.items() if k in cls.__dataclass_fields__},
                "env": dict(data.get("env") or {}),
                "static": dict(data.get("static") or {}),
                "writable": tuple(data.get("writable") or ()),
                "secrets": Secrets(str(secrets.get("version", "")), tuple(secrets.get("names", ()))),
            })
        except TypeError as err:
            raise ManifestError(f"manifest {data.get('id')!r} does not follow the contract: {err}") from None
        if not ID.match(str(manifest.id)):
            raise ManifestError(f"manifest id {manifest.id!r}: expected 12 lowercase hex digits")
        if verify and manifest.content_id() != manifest.id:
            raise ManifestError(f"manifest {manifest.id}: its content hashes to {manifest.content_id()}; edited or corrupt")
        return manifest

    @classmethod
    def from_json(cls, text: str | bytes, verify: bool = True) -> Manifest:
        try:
            data = json.loads(text)
        except ValueError as err:
            raise ManifestError(f"manifest is not JSON: {err}") from None
        if not isinstance(data, dict):
            raise ManifestError(f"manifest is a {type(data).__name__}, expected a JSON object")
        return cls.from_dict(data, verify=verify)


def new_manifest(*, artifact: str, artifact_bytes: int, source_hash: str, deps_hash: str, deps: str,
                 app: str, module: str, env: Mapping[str, str] | None = None,
                 secrets: Secrets | None = None, release_command: str | None = None,
                 health_path: str | None = None, static: Mapping[str, str] | None = None,
                 writable: Sequence[str] = (), workers: int | None = None, threads: int | None = None,
                 keep: int = 5, created: str | None = None) -> Manifest:
    """A manifest with its content id filled in."""
    draft = Manifest(
        id="0" * 12, created=created or now_iso(), artifact=artifact, artifact_bytes=artifact_bytes,
        source_hash=source_hash, deps_hash=deps_hash, deps=deps, app=app, module=module,
        env=dict(env or {}), secrets=secrets or Secrets(), release_command=release_command,
        health_path=health_path, static=dict(static or {}), writable=tuple(writable),
        workers=workers, threads=threads, keep=keep)
    return replace(draft, id=draft.content_id())


@dataclass(frozen=True)
class Pointer:
    """`releases/desired.json`: the release the host should run. Rollback rewrites it."""

    id: str
    at: str

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "at": self.at}, sort_keys=True) + "\n"

    @classmethod
    def to(cls, release_id: str, at: str | None = None) -> Pointer:
        if not ID.match(release_id):
            raise ManifestError(f"release id {release_id!r}: expected 12 lowercase hex digits")
        return cls(release_id, at or now_iso())

    @classmethod
    def from_json(cls, text: str | bytes) -> Pointer:
        try:
            data = json.loads(text)
            return cls.to(str(data["id"]), str(data.get("at") or ""))
        except (ValueError, KeyError, TypeError) as err:
            raise ManifestError(f"desired pointer is not {{\"id\": <12 hex>, \"at\": ...}}: {err}") from None


def history(manifests: Sequence[Manifest]) -> list[Manifest]:
    """Newest first; ties (same second) broken by id so the order is stable."""
    return sorted(manifests, key=lambda m: (m.created, m.id), reverse=True)
