"""components/digitalocean/ssh_keys.py: the admin's keys registered, and the stack's deploy key."""

from __future__ import annotations

import pulumi

from components.digitalocean.ssh_keys import DoSshKeys, DoSshKeysArgs
from pulumi_mocks import DEPLOY_PUBLIC_KEY, SSH_KEY


def test_admin_keys_registered_without_deploy_key(run) -> None:
    program = run(lambda: DoSshKeys("keys", DoSshKeysArgs(public_keys=[SSH_KEY + "\n"])))
    [key] = program.of_type("digitalocean:index/sshKey:SshKey")
    assert key.inputs["publicKey"] == SSH_KEY
    assert not program.of_type("tls:index/privateKey:PrivateKey")


def test_deploy_key_is_ed25519_and_registered(run) -> None:
    out: dict = {}

    def program() -> None:
        keys = DoSshKeys("keys", DoSshKeysArgs(public_keys=[SSH_KEY], deploy_key=True))
        assert keys.deploy_public_key is not None and keys.deploy_private_key is not None
        keys.deploy_public_key.apply(lambda k: out.__setitem__("public", k))
        out["count"] = len(keys.fingerprints)
        pulumi.CustomResource("test:index:Consumer", "consumer", {"key": keys.deploy_private_key})
    result = run(program)
    assert result.one("tls:index/privateKey:PrivateKey").inputs["algorithm"] == "ED25519"
    registered = [k.inputs["publicKey"] for k in result.of_type("digitalocean:index/sshKey:SshKey")]
    assert len(registered) == out["count"] == 2
    assert out["public"] == DEPLOY_PUBLIC_KEY
    assert "key" in result.one("test:index:Consumer").secret_inputs
