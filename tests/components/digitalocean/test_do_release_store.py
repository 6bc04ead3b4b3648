"""components/digitalocean/release_store.py under mocks: a private, versioned Spaces bucket, a read-only
key scoped to it, secrets and that key sealed to the droplet's own key (never in plain text anywhere), and
the enrollment bucket the droplet announces that key in (components/digitalocean/enroll_bucket.py): read
by `pulumi up` from the bucket with its scoped key, never from the droplet's address."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pulumi
import pytest

from components.digitalocean.release_store import (
    DoReleaseDelivery, DoReleaseDeliveryArgs, DoReleaseStore, DoReleaseStoreArgs,
)
from launchpad.release.artifact import build
from launchpad.release.manifest import Secrets, new_manifest, secrets_version
from launchpad.release.sealed import key_id, open_sealed
from pulumi_mocks import (
    ENROLL_HEX, ENROLL_SPACES_ACCESS_KEY, ENROLL_SPACES_SECRET_KEY, HOST_PRIVATE_KEY, HOST_PUBLIC_KEY, SPACES_ACCESS_KEY,
    SPACES_SECRET_KEY, Program,
)

SECRET = "s3cr3t-value-Kq9"
KEY_ID = key_id(base64.b64decode(HOST_PUBLIC_KEY))


def program_for(run, tmp_path: Path, code: str = "app = None\n") -> Program:
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / "wsgi.py").write_text(code)
    art = build(app, tmp_path / "build")
    values = {"SECRET_KEY": SECRET}
    manifest = new_manifest(artifact=art.sha256, artifact_bytes=art.bytes, source_hash=art.source_hash,
                            deps_hash=art.deps_hash, deps=art.deps, app="demo", module="wsgi:app",
                            secrets=Secrets(secrets_version(values, "staging"), tuple(values)))

    def program() -> None:
        store = DoReleaseStore("staging", DoReleaseStoreArgs(stack="staging", artifact=art, manifest=manifest,
                                                             secrets=pulumi.Output.secret(values), region="fra1"))
        DoReleaseDelivery("staging", DoReleaseDeliveryArgs(store=store, host_id="4242"))
        pulumi.export("enrollment", store.enrollment.agent_spec())

    return run(program, stack="staging")


@pytest.fixture
def program(run, tmp_path: Path) -> Program:
    return program_for(run, tmp_path)


def objects(program: Program) -> dict[str, dict]:
    return {r.name: r.inputs for r in program.of_type("digitalocean:index/spacesBucketObject:SpacesBucketObject")}


def test_bucket_private_versioned_and_the_key_reads_only_it(program: Program) -> None:
    bucket = next(r for r in program.of_type("digitalocean:index/spacesBucket:SpacesBucket") if r.name == "staging-releases")
    assert bucket.inputs["acl"] == "private" and bucket.inputs["versioning"] == {"enabled": True}
    key = next(r for r in program.of_type("digitalocean:index/spacesKey:SpacesKey") if r.name == "staging-releases-read")
    assert key.inputs["grants"] == [{"bucket": bucket.state["name"], "permission": "read"}]


def test_enrollment_bucket_is_private_and_its_key_reaches_it_alone(program: Program) -> None:
    buckets = {r.name: r for r in program.of_type("digitalocean:index/spacesBucket:SpacesBucket")}
    assert set(buckets) == {"staging-releases", "staging-enroll"}
    enroll_bucket = buckets["staging-enroll"]
    assert enroll_bucket.inputs["name"] == f"{buckets['staging-releases'].state['name']}-enroll"
    assert enroll_bucket.inputs["acl"] == "private" and enroll_bucket.inputs["forceDestroy"] is True
    key = next(r for r in program.of_type("digitalocean:index/spacesKey:SpacesKey") if r.name == "staging-enroll-write")
    assert key.inputs["grants"] == [{"bucket": enroll_bucket.state["name"], "permission": "readwrite"}]
    assert program.outputs["enrollment"] == {"store": f"s3://{enroll_bucket.state['name']}/staging/enroll",
                                             "enrollment_key_id": ENROLL_SPACES_ACCESS_KEY,
                                             "enrollment_key_secret": ENROLL_SPACES_SECRET_KEY}


def test_enrollment_reads_the_bucket_not_the_droplet(program: Program) -> None:
    [enroll] = [r for r in program.of_type("command:local:Command") if r.name == "staging-enroll"]
    create = enroll.inputs["create"]
    assert " -m launchpad.release.enroll s3://staging-releases-a1b2c3d-enroll/staging/enroll 4242 " in create
    assert "--endpoint https://fra1.digitaloceanspaces.com --region fra1" in create
    assert "http://" not in create and "203.0.113" not in create  # no address of the droplet, no inbound path
    env = enroll.inputs["environment"]
    assert env == {"LAUNCHPAD_ENROLL": ENROLL_HEX, "LAUNCHPAD_ENROLL_ACCESS_KEY_ID": ENROLL_SPACES_ACCESS_KEY,
                   "LAUNCHPAD_ENROLL_SECRET_ACCESS_KEY": ENROLL_SPACES_SECRET_KEY}
    assert ENROLL_SPACES_SECRET_KEY not in create and ENROLL_HEX not in create


def test_only_ciphertext_is_public(program: Program) -> None:
    objs = objects(program)
    public = {name for name, o in objs.items() if o["acl"] != "private"}
    # Public: the sealed read key (ciphertext) and the agent (open code, pinned by sha256 in user-data).
    assert public == {"staging-host-credentials", "staging-agent"}
    from launchpad.render.release_host import agent_key
    assert objs["staging-agent"]["key"] == f"staging/{agent_key()}"
    assert objs["staging-host-credentials"]["key"] == f"staging/hosts/{KEY_ID}.sealed"
    everything = json.dumps([r.inputs for r in program.resources], default=str)
    assert SPACES_SECRET_KEY not in everything and SECRET not in everything


def test_the_droplet_opens_its_credentials_and_secrets(program: Program) -> None:
    objs = objects(program)
    creds = open_sealed(HOST_PRIVATE_KEY, objs["staging-host-credentials"]["content"], f"staging/hosts/{KEY_ID}".encode())
    assert json.loads(creds) == {"access_key_id": SPACES_ACCESS_KEY, "secret_access_key": SPACES_SECRET_KEY}
    manifest = json.loads(objs["staging-manifest"]["content"])
    version = manifest["secrets"]["version"]
    assert objs["staging-secrets"]["key"] == f"staging/secrets/{version}.{KEY_ID}.sealed"
    secrets = open_sealed(HOST_PRIVATE_KEY, objs["staging-secrets"]["content"], f"staging/secrets/{version}".encode())
    assert json.loads(secrets) == {"SECRET_KEY": SECRET}


def test_pointer_last_and_enrollment_value_stays_secret(program: Program) -> None:
    pointer = next(r for r in program.resources if r.name == "staging-desired")
    for name in ("staging-artifact", "staging-manifest", "staging-secrets", "staging-host-credentials"):
        assert program.depends_on(pointer, next(r for r in program.resources if r.name == name))
    enroll = next(r for r in program.of_type("command:local:Command") if r.name == "staging-enroll")
    assert "environment" in enroll.secret_inputs and "LAUNCHPAD_ENROLL" not in enroll.inputs["create"]
    assert enroll.inputs["triggers"] == ["4242"]


def test_sealing_is_stable_and_a_code_change_only_touches_release_objects(run, tmp_path: Path) -> None:
    first, again = program_for(run, tmp_path), program_for(run, tmp_path)
    assert objects(first) == objects(again), "no diff on an unchanged release"
    changed = objects(program_for(run, tmp_path, code="app = 'v2'\n"))
    before = objects(first)
    assert changed["staging-artifact"]["key"] != before["staging-artifact"]["key"]
    assert changed["staging-host-credentials"] == before["staging-host-credentials"]
    assert changed["staging-secrets"] == before["staging-secrets"]
