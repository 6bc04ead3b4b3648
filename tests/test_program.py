"""__main__.py, the Pulumi program itself, run under mocks: the committed stacks build, bad configs build nothing.

Config reaches the program the way Pulumi hands it over (`set_all_config`, every value a
string, structured ones as JSON), and the program reads it through load_from_pulumi.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

from committed import stack_files
from pulumi_mocks import Resource, run_program
from launchpad.settings import ConfigError

ROOT = Path(__file__).resolve().parent.parent
STACK_FILES = stack_files(ROOT)
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7mockmockmockmockmockmockmockmockmockmock ops@laptop"

HOST_TYPES = {"aws": "aws:ec2/instance:Instance", "digitalocean": "digitalocean:index/droplet:Droplet",
              "local": "launchpad:hosts:LocalHost"}


def run_main(config: dict[str, Any], stack: str = "test", secret_keys: list[str] | None = None,
             record: list[Resource] | None = None):
    return run_program(lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"),
                       stack=stack, config=config, secret_keys=secret_keys, record=record)


def stack_config(path: Path) -> dict[str, Any]:
    return (yaml.safe_load(path.read_text()) or {}).get("config") or {}


def test_every_provider_has_a_committed_stack() -> None:
    providers = {stack_config(p).get("launchpad:provider", "local") for p in STACK_FILES}
    assert providers == {"aws", "digitalocean", "local"}


@pytest.mark.parametrize("path", STACK_FILES, ids=lambda p: p.name)
def test_committed_stack_builds(path: Path) -> None:
    stack = path.name.split(".")[1]
    config = stack_config(path)
    provider = config.get("launchpad:provider", "local")
    program = run_main(config, stack=stack)
    assert len(program.of_type(HOST_TYPES[provider])) == 1
    assert {"url", "public_ip"} <= set(program.outputs)
    if (config.get("launchpad:database") or {}).get("enabled"):
        assert "database_host" in program.outputs
    if provider != "local":
        [readiness] = [c for c in program.of_type("command:local:Command") if "-m launchpad.wait" in c.inputs["create"]]
        assert "--release" in readiness.inputs["create"]  # waits for the release the program built
    # Only the selected provider's resources: the others' SDKs are never used.
    other = {"aws", "digitalocean"} - {provider}
    assert not [r.type for r in program.resources if r.type.split(":")[0] in other]


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("unknown provider", {"launchpad:provider": "digitalocaen"},
     "launchpad:provider: 'digitalocaen' is not a provider (did you mean 'digitalocean'?)"),
    ("bad aws region", {"launchpad:provider": "aws", "launchpad:region": "eu-west-9"},
     "launchpad:region: 'eu-west-9' is not a aws region (did you mean 'eu-west-3'?)"),
    ("do region on aws", {"launchpad:provider": "aws", "launchpad:region": "fra1"}, "'fra1' is not a aws region"),
    ("bad size", {"launchpad:provider": "aws", "launchpad:size": "t3.gigantic"},
     "launchpad:size: 't3.gigantic' is not an EC2 instance type"),
    ("bad droplet size", {"launchpad:provider": "digitalocean", "launchpad:size": "t3.small"},
     "launchpad:size: 't3.small' is not a droplet size slug"),
    ("world-open cidr", {"launchpad:provider": "aws", "launchpad:adminCidrs": ["0.0.0.0/0"], "launchpad:sshKeys": [SSH_KEY]},
     "launchpad:adminCidrs[0]: '0.0.0.0/0' opens SSH to the whole internet"),
    ("malformed cidr", {"launchpad:provider": "digitalocean", "launchpad:adminCidrs": ["203.0.113.7/33"],
                        "launchpad:sshKeys": [SSH_KEY]},
     "launchpad:adminCidrs[0]: '203.0.113.7/33' is not a CIDR"),
    ("www domain", {"launchpad:provider": "aws", "launchpad:domain": "www.example.com"},
     "launchpad:domain: 'www.example.com': give the apex domain ('example.com')"),
    ("missing app folder", {"launchpad:provider": "aws", "launchpad:app": {"path": "no/such/app"}},
     "launchpad:app.path: 'no/such/app' is not a folder"),
    ("module missing", {"launchpad:provider": "digitalocean", "launchpad:app": {"module": "missing:app"}},
     "launchpad:app.module: 'missing:app': no missing.py or missing/__init__.py"),
    ("db version on aws", {"launchpad:provider": "aws", "launchpad:database": {"enabled": True, "version": "12"}},
     "launchpad:database.version: '12' is not offered on aws; valid: 13, 14, 15, 16, 17"),
    ("db version on local", {"launchpad:provider": "local", "launchpad:database": {"enabled": True, "version": "16"}},
     "launchpad:database.version: '16' is not offered on local; valid: 15"),
    ("negative retention", {"launchpad:provider": "aws", "launchpad:database": {"enabled": True, "backupRetentionDays": -1}},
     "launchpad:database.backupRetentionDays: -1 is out of range; RDS keeps 1 to 35 days"),
    ("retention on do", {"launchpad:provider": "digitalocean", "launchpad:database": {"backupRetentionDays": 14}},
     "DigitalOcean keeps backups 7 days, fixed"),
    ("unknown key", {"launchpad:provider": "aws", "launchpad:regoin": "eu-west-1"},
     "launchpad:regoin: unknown key (did you mean 'region'?)"),
    ("unknown nested key", {"launchpad:provider": "aws", "launchpad:database": {"enabld": True}},
     "launchpad:database.enabld: unknown key (did you mean 'enabled'?)"),
    ("plaintext do token", {"launchpad:provider": "digitalocean", "digitalocean:token": "dop_v1_" + "0" * 64},
     "digitalocean:token: is stored in plain text; set it with `pulumi config set --secret digitalocean:token`"),
    ("ssh without keys", {"launchpad:provider": "aws", "launchpad:adminCidrs": ["203.0.113.7/32"]},
     "launchpad:sshKeys: [] while adminCidrs opens SSH"),
]


@pytest.mark.parametrize("config, message", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_config_fails_with_its_message_and_builds_nothing(config: dict[str, Any], message: str) -> None:
    record: list[Resource] = []
    with pytest.raises(ConfigError) as caught:
        run_main(config, record=record)
    assert message in str(caught.value)
    assert record == []


def test_all_problems_reported_at_once() -> None:
    record: list[Resource] = []
    with pytest.raises(ConfigError) as caught:
        run_main({"launchpad:provider": "aws", "launchpad:region": "mars-1", "launchpad:size": "huge",
                  "launchpad:domain": "www.example.com"}, record=record)
    assert {p.key for p in caught.value.problems} == {"region", "size", "domain"}
    assert record == []


def test_token_held_as_a_secret_is_accepted() -> None:
    program = run_main({"launchpad:provider": "digitalocean", "digitalocean:token": "dop_v1_" + "0" * 64},
                       secret_keys=["digitalocean:token"])
    assert program.of_type("digitalocean:index/droplet:Droplet")
