"""launchpad/ops/connect.py and access.py: reading a stack's outputs (pulumi mocked), and the
clear refusals when access is not configured."""

from __future__ import annotations

import json
import subprocess

import pytest

from launchpad.ops import access, connect
from launchpad.ops.access import HostRef
from launchpad.ops.remote import OpsError
from launchpad.ops.targets import AwsTarget, LocalMachine, LocalTarget, SshTarget
from launchpad.settings import validate

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 ops@laptop"
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyMock"
AWS_ACCESS = access.eice("ops", "eu-west-1", [("web", "i-0abc", "10.0.0.10")])
DO_ACCESS = access.ssh("ops", HOST_KEY + "\n", [("web", "198.51.100.20")])


def _settings(provider, stack="prod", **extra):
    return validate({"launchpad:provider": provider, **{f"launchpad:{k}": v for k, v in extra.items()}}, stack)


def _pulumi(code=0, out="{}", err=""):
    calls = []

    def run(argv):
        calls.append(list(argv))
        return subprocess.CompletedProcess(argv, code, out, err)
    return run, calls


def test_outputs_are_read_the_way_pulumi_gives_them() -> None:
    run, calls = _pulumi(out=json.dumps({"url": "http://198.51.100.7", "access": AWS_ACCESS}))
    settings = _settings("aws")
    target = connect.target_for(settings, run)
    assert calls == [["pulumi", "stack", "output", "--json", "--stack", "prod"]]
    assert isinstance(target, AwsTarget)
    assert target.hosts == (HostRef("web", "10.0.0.10", "i-0abc"),)
    assert target.access.region == "eu-west-1"


def test_digitalocean_target_pins_the_host_key() -> None:
    settings = _settings("digitalocean", "staging", adminCidrs=["203.0.113.7/32"], sshKeys=[KEY])
    target = connect.cloud_target(settings, {"access": DO_ACCESS}, env={"LAUNCHPAD_SSH_IDENTITY": "/k"})
    assert isinstance(target, SshTarget)
    assert target.access.host_key == HOST_KEY and target.identity == "/k"


@pytest.mark.parametrize("settings, outputs, message", [
    (_settings("digitalocean", "staging"), {"access": DO_ACCESS},
     "launchpad:adminCidrs is empty, so SSH to stack staging's droplet is closed: add your address, e.g.\n"
     "  pulumi config set --stack staging --path 'launchpad:adminCidrs[0]' 203.0.113.7/32"),
    (_settings("digitalocean", "staging", adminCidrs=["203.0.113.7/32"], sshKeys=[KEY]), {"url": "x"},
     "stack staging has no 'access' output (it has: url): run `pulumi up --stack staging`"),
    (_settings("digitalocean", "staging", adminCidrs=["203.0.113.7/32"], sshKeys=[KEY]),
     {"access": {**DO_ACCESS, "host_key": None}}, "stack staging: access.host_key is missing for web, so the host cannot be verified"),
    (_settings("aws"), {"access": {**AWS_ACCESS, "region": None}}, "stack prod: access.region is missing"),
    (_settings("aws"), {"access": {**AWS_ACCESS, "hosts": [{"name": "web", "address": "10.0.0.10"}]}},
     "stack prod: access.hosts \\['web'\\] have no instance_id"),
    (_settings("aws"), {"access": {**AWS_ACCESS, "hosts": []}}, "stack prod: access.hosts is empty"),
    (_settings("aws"), {"access": {**AWS_ACCESS, "transport": "telnet"}},
     "stack prod: access.transport 'telnet' is not known; valid: eice, ssh, nsenter"),
    (_settings("aws"), {"access": DO_ACCESS}, "stack prod: access.transport is 'ssh', expected 'eice' on aws"),
])
def test_refusals_name_what_to_add(settings, outputs, message) -> None:
    with pytest.raises(OpsError) as err:
        connect.cloud_target(settings, outputs, env={})
    assert str(err.value).startswith(message.replace("\\", ""))


def test_ssh_keys_empty_is_named() -> None:
    # adminCidrs without sshKeys is refused by the settings check already; an older file may still say so.
    settings = _settings("digitalocean", "staging").model_copy(update={"admin_cidrs": ["203.0.113.7/32"]})
    with pytest.raises(OpsError, match="^launchpad:sshKeys is empty, so no key may log in"):
        connect.check_cloud_config(settings)


def test_pulumi_failure_is_explained() -> None:
    run, _ = _pulumi(code=255, err="error: no stack named 'prod' found")
    with pytest.raises(OpsError, match="pulumi stack output --stack prod failed \\(exit 255\\): error: no stack named"):
        connect.stack_outputs("prod", run)


def test_missing_tool_is_named(monkeypatch) -> None:
    monkeypatch.setattr(connect.shutil, "which", lambda name: None)
    with pytest.raises(OpsError, match="^aws: not found on PATH; install the AWS CLI v2"):
        connect.capture(["aws", "--version"])


@pytest.mark.parametrize("host, default_all, expected", [
    (None, False, [0]), (None, True, [0, 1]), ("all", False, [0, 1]), ("1", False, [1]), ("0", True, [0]),
])
def test_pick_hosts(host, default_all, expected) -> None:
    two = type("Two", (), {"hosts": (HostRef("a", "x"), HostRef("b", "y"))})()
    assert connect.pick_hosts(two, host, default_all) == expected


def test_pick_hosts_refuses_unknown() -> None:
    one = LocalTarget((LocalMachine("lp-dev", "10.213.0.2", 1),))
    with pytest.raises(OpsError, match="^--host: '3' is not a host of this stack; valid: all, 0 \\(lp-dev\\)"):
        connect.pick_hosts(one, "3", False)


def test_access_record_round_trip() -> None:
    assert AWS_ACCESS == {"transport": "eice", "user": "ops", "region": "eu-west-1",
                          "hosts": [{"name": "web", "address": "10.0.0.10", "instance_id": "i-0abc"}]}
    assert DO_ACCESS == {"transport": "ssh", "user": "ops", "host_key": HOST_KEY,
                         "hosts": [{"name": "web", "address": "198.51.100.20"}]}
    assert access.parse("s", {"access": DO_ACCESS}).host_key == HOST_KEY
