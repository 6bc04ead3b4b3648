"""components/digitalocean/certificate_store.py: a private bucket of its own and a key that may write it only."""

from __future__ import annotations

from components.digitalocean.certificate_store import DoCertificateStore, DoCertificateStoreArgs


def test_private_versioned_bucket_and_a_key_scoped_to_it(run) -> None:
    program = run(lambda: DoCertificateStore("prod", DoCertificateStoreArgs(stack="prod", domain="rocket.example.com", region="nyc3")))
    bucket = program.one("digitalocean:index/spacesBucket:SpacesBucket")
    assert bucket.name == "prod-certificates" and bucket.inputs["acl"] == "private"
    assert bucket.inputs["versioning"] == {"enabled": True}
    key = program.one("digitalocean:index/spacesKey:SpacesKey")
    # One grant: this bucket, never the release store (a droplet's key must not write releases).
    assert key.inputs["grants"] == [{"bucket": bucket.state["name"], "permission": "readwrite"}]
