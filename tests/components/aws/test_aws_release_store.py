"""components/aws/release_store.py under mocks: a private, encrypted, versioned, TLS-only bucket; the
release's objects under the stack's prefix; secrets only in Secrets Manager; pointer written last."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.aws.release_store import AwsReleaseStore, AwsReleaseStoreArgs
from launchpad.release.artifact import build
from launchpad.release.manifest import Secrets, new_manifest, secrets_version
from pulumi_mocks import Program

SECRET = "s3cr3t-value-Kq9"


def store(run, tmp_path: Path, code: str = "app = None\n", secrets: dict[str, str] | None = None) -> Program:
    app = tmp_path / "app"
    app.mkdir(exist_ok=True)
    (app / "wsgi.py").write_text(code)
    art = build(app, tmp_path / "build")
    values = {"SECRET_KEY": SECRET} if secrets is None else secrets
    manifest = new_manifest(artifact=art.sha256, artifact_bytes=art.bytes, source_hash=art.source_hash,
                            deps_hash=art.deps_hash, deps=art.deps, app="demo", module="wsgi:app",
                            secrets=Secrets(secrets_version(values, "prod"), tuple(values)))
    return run(lambda: AwsReleaseStore("prod", AwsReleaseStoreArgs(
        stack="prod", artifact=art, manifest=manifest, secrets=values, tags={"launchpad:stack": "prod"})))


@pytest.fixture
def program(run, tmp_path: Path) -> Program:
    return store(run, tmp_path)


def test_bucket_is_private_encrypted_versioned_and_tls_only(program: Program) -> None:
    bucket = program.one("aws:s3/bucket:Bucket")
    block = program.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert block["bucket"] == bucket.id
    sse = program.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    versioning = program.one("aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    ownership = program.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    [statement] = json.loads(program.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [bucket.state["arn"], bucket.state["arn"] + "/*"]


def test_objects_live_under_the_stack_prefix_and_releases_are_kept(program: Program) -> None:
    objects = {r.name: r for r in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    assert set(objects) == {"prod-artifact", "prod-manifest", "prod-desired", "prod-agent"}
    from launchpad.render.release_host import agent_key
    assert objects["prod-agent"].inputs["key"] == f"prod/{agent_key()}"
    assert all(o.inputs["key"].startswith("prod/") for o in objects.values())
    artifact = objects["prod-artifact"].inputs
    assert artifact["key"].startswith("prod/artifacts/") and artifact["key"].endswith(".tar.gz")
    manifest = json.loads(objects["prod-manifest"].inputs["content"])
    assert objects["prod-manifest"].inputs["key"] == f"prod/releases/{manifest['id']}.json"
    assert manifest["created"] == "2026-01-02T03:04:05Z", "the stamp, not the program's clock"
    assert json.loads(objects["prod-desired"].inputs["content"]) == {"id": manifest["id"], "at": "2026-01-02T03:04:05Z"}


def test_pointer_waits_for_artifact_manifest_and_secrets(program: Program) -> None:
    pointer = next(r for r in program.of_type("aws:s3/bucketObjectv2:BucketObjectv2") if r.name == "prod-desired")
    for other in ("prod-artifact", "prod-manifest"):
        assert program.depends_on(pointer, next(r for r in program.resources if r.name == other))
    assert program.depends_on(pointer, program.one("aws:secretsmanager/secretVersion:SecretVersion"))


def test_secrets_only_in_secrets_manager_and_secret_in_state(program: Program) -> None:
    version = program.one("aws:secretsmanager/secretVersion:SecretVersion")
    assert json.loads(version.inputs["secretString"]) == {"SECRET_KEY": SECRET}
    assert "secretString" in version.secret_inputs
    for r in program.resources:
        if r is not version:
            assert SECRET not in json.dumps(r.inputs, default=str), f"{r.type} {r.name} holds a secret value"


def test_a_new_release_keeps_the_bucket_and_secret(run, tmp_path: Path) -> None:
    first = store(run, tmp_path)
    second = store(run, tmp_path, code="app = 'v2'\n")
    keys = [{r.name: r.inputs.get("key") for r in p.of_type("aws:s3/bucketObjectv2:BucketObjectv2")} for p in (first, second)]
    assert keys[0]["prod-artifact"] != keys[1]["prod-artifact"] and keys[0]["prod-manifest"] != keys[1]["prod-manifest"]
    for typ in ("aws:s3/bucket:Bucket", "aws:secretsmanager/secret:Secret"):
        assert first.one(typ).inputs == second.one(typ).inputs


def test_no_secrets_still_creates_the_secret(run, tmp_path: Path) -> None:
    program = store(run, tmp_path, secrets={})
    assert json.loads(program.one("aws:secretsmanager/secretVersion:SecretVersion").inputs["secretString"]) == {}
