"""components/digitalocean/ssh_keys.py: the admin's keys registered (or reused from the account by fingerprint); no deploy key."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pulumi
import pulumi_mocks
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from components.digitalocean.ssh_keys import DoSshKeys, DoSshKeysArgs, fingerprint, registered_name
from pulumi_mocks import SSH_KEY, Program


def test_admin_keys_registered_and_no_deploy_key(run) -> None:
    """Issue 12, item 4: nothing in a deploy logs in to the droplet, so no key pair is made or kept in state."""
    program = run(lambda: DoSshKeys("keys", DoSshKeysArgs(public_keys=[SSH_KEY + "\n"])))
    [key] = program.of_type("digitalocean:index/sshKey:SshKey")
    assert key.inputs["publicKey"] == SSH_KEY
    assert not program.of_type("tls:index/privateKey:PrivateKey")


# --- keys already in the account, or shared by two stacks (issue 12, item 5) ----------------

SSH_KEY_TYPE = "digitalocean:index/sshKey:SshKey"


def new_key(comment: str) -> str:
    private = ed25519.Ed25519PrivateKey.generate()
    line = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{line.decode()} {comment}"


def in_account(key: str, name: str, key_id: int = 1) -> dict:
    return {"fingerprint": fingerprint(key), "id": key_id, "name": name, "publicKey": key}


def fingerprints_of(run, stack: str, public_keys: list[str]) -> tuple[Program, list[str]]:
    out: dict = {}

    def program() -> None:
        keys = DoSshKeys(stack, DoSshKeysArgs(public_keys=public_keys))
        pulumi.Output.all(*keys.fingerprints).apply(lambda v: out.__setitem__("fps", list(v)))
        out["reused"] = keys.reused
    result = run(program, stack=stack)
    return result, out["fps"] if public_keys else []


def test_fingerprint_is_what_ssh_keygen_and_digitalocean_show(tmp_path: Path) -> None:
    key = new_key("ops@laptop")
    (tmp_path / "key.pub").write_text(key + "\n")
    shown = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(tmp_path / "key.pub")],
                           capture_output=True, text=True, check=True).stdout.split()[1]
    assert shown == f"MD5:{fingerprint(key)}"
    assert fingerprint("ssh-ed25519 not-base64!") is None


def test_a_key_already_in_the_account_is_used_not_registered_again(run, monkeypatch) -> None:
    key = new_key("ops@laptop")
    monkeypatch.setattr(pulumi_mocks, "ACCOUNT_SSH_KEYS", [in_account(key, "laptop", 7)])
    program, fps = fingerprints_of(run, "prod", [key])
    assert not program.of_type(SSH_KEY_TYPE), "registering it again would be DigitalOcean's 422"
    assert fps == [fingerprint(key)]
    assert [t for t, _ in program.calls].count("digitalocean:index/getSshKeys:getSshKeys") == 1


def test_only_the_missing_keys_are_registered_in_order(run, monkeypatch) -> None:
    present, missing = new_key("present"), new_key("missing")
    monkeypatch.setattr(pulumi_mocks, "ACCOUNT_SSH_KEYS", [in_account(present, "someone's key")])
    program, fps = fingerprints_of(run, "prod", [present, missing])
    [registered] = program.of_type(SSH_KEY_TYPE)
    assert registered.inputs["publicKey"] == missing and registered.name == "prod-admin-1"
    assert registered.inputs["name"] == registered_name("launchpad", "prod", missing)
    assert fps == [fingerprint(present), registered.state["fingerprint"]]


def test_two_stacks_share_a_key_and_the_first_keeps_owning_it(run, monkeypatch) -> None:
    key = new_key("ops@laptop")
    # staging registers it (the account does not hold it yet) ...
    first, _ = fingerprints_of(run, "staging", [key])
    [registered] = first.of_type(SSH_KEY_TYPE)
    monkeypatch.setattr(pulumi_mocks, "ACCOUNT_SSH_KEYS", [in_account(key, registered.inputs["name"])])
    # ... prod, sharing the account, uses staging's registration ...
    second, fps = fingerprints_of(run, "prod", [key])
    assert not second.of_type(SSH_KEY_TYPE) and fps == [fingerprint(key)]
    # ... and staging's next update still declares its key: not deleted, not registered twice.
    again, _ = fingerprints_of(run, "staging", [key])
    [kept] = again.of_type(SSH_KEY_TYPE)
    assert (kept.name, kept.inputs) == (registered.name, registered.inputs)


def test_a_key_registered_under_pulumis_old_auto_name_is_still_the_stacks(run, monkeypatch) -> None:
    key = new_key("ops@laptop")
    monkeypatch.setattr(pulumi_mocks, "ACCOUNT_SSH_KEYS", [in_account(key, "prod-admin-0-3f9a1c2")])
    program, _ = fingerprints_of(run, "prod", [key])
    assert [k.name for k in program.of_type(SSH_KEY_TYPE)] == ["prod-admin-0"]


def test_a_key_listed_twice_is_registered_once(run) -> None:
    key = new_key("ops@laptop")
    program, fps = fingerprints_of(run, "prod", [key, key + "\n"])
    assert len(program.of_type(SSH_KEY_TYPE)) == 1 and len(fps) == 1


def test_a_key_whose_fingerprint_cannot_be_computed_matches_by_its_text(run, monkeypatch) -> None:
    monkeypatch.setattr(pulumi_mocks, "ACCOUNT_SSH_KEYS", [
        {"fingerprint": "aa:bb", "id": 3, "name": "laptop", "publicKey": SSH_KEY.rsplit(" ", 1)[0] + " other-comment"}])
    program, fps = fingerprints_of(run, "prod", [SSH_KEY])
    assert not program.of_type(SSH_KEY_TYPE) and fps == ["aa:bb"]


def test_no_admin_keys_no_lookup(run) -> None:
    program = run(lambda: DoSshKeys("prod", DoSshKeysArgs()))
    assert not any(t == "digitalocean:index/getSshKeys:getSshKeys" for t, _ in program.calls)


def test_the_digitalocean_stack_puts_an_account_key_on_the_droplet(run, monkeypatch) -> None:
    from launchpad.settings import validate
    from stacks import digitalocean as do_stack

    key = new_key("ops@laptop")
    monkeypatch.setattr(pulumi_mocks, "ACCOUNT_SSH_KEYS", [in_account(key, "laptop", 9)])
    settings = validate({"launchpad:provider": "digitalocean", "launchpad:region": "fra1",
                         "launchpad:adminCidrs": ["203.0.113.7/32"], "launchpad:sshKeys": [key]}, "prod")
    program = run(lambda: do_stack.build(settings), stack="prod")
    assert not [k for k in program.of_type(SSH_KEY_TYPE) if k.inputs["publicKey"] == key]
    [droplet] = program.of_type("digitalocean:index/droplet:Droplet")
    assert fingerprint(key) in droplet.inputs["sshKeys"]
