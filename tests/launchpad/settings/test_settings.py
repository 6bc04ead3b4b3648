"""The config model: every bad input gets its exact error, all at once; Pulumi.yaml and README agree with it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from launchpad import settings as s
from launchpad.settings import ConfigError, validate

ROOT = Path(__file__).resolve().parents[3]
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7 ops@laptop"


# (config, exact problem line) — each case is one realistic mistake.
BAD = [
    ({"launchpad:provider": "awz"}, "launchpad:provider: 'awz' is not a provider (did you mean 'aws'?); valid: aws, digitalocean, local"),
    ({"launchpad:provider": "gcp"}, "launchpad:provider: 'gcp' is not a provider; valid: aws, digitalocean, local"),
    ({"launchpad:provider": "aws", "launchpad:region": "us-east-9"}, "launchpad:region: 'us-east-9' is not a aws region (did you mean 'us-east-2'?)"),
    ({"launchpad:provider": "digitalocean", "launchpad:region": "us-east-1"}, "launchpad:region: 'us-east-1' is not a digitalocean region"),
    ({"launchpad:provider": "aws", "launchpad:size": "s-1vcpu-1gb"}, "launchpad:size: 's-1vcpu-1gb' is not an EC2 instance type; expected like t3.small or m7g.large"),
    ({"launchpad:provider": "digitalocean", "launchpad:size": "t3.small"}, "launchpad:size: 't3.small' is not a droplet size slug; expected like s-1vcpu-1gb or s-2vcpu-4gb"),
    ({"launchpad:size": "t3.small"}, "launchpad:size: 't3.small': the local provider takes no size; remove the key or set 'local'"),
    ({"launchpad:adminCidrs": ["0.0.0.0/0"]}, "launchpad:adminCidrs[0]: '0.0.0.0/0' opens SSH to the whole internet; give your own address, like 203.0.113.7/32"),
    ({"launchpad:adminCidrs": ["::/0"]}, "launchpad:adminCidrs[0]: '::/0' opens SSH to the whole internet"),
    ({"launchpad:adminCidrs": ["203.0.113.300/32"]}, "launchpad:adminCidrs[0]: '203.0.113.300/32' is not a CIDR"),
    ({"launchpad:adminCidrs": ["203.0.113.7/24"]}, "launchpad:adminCidrs[0]: '203.0.113.7/24' is not a CIDR (203.0.113.7/24 has host bits set)"),
    ({"launchpad:provider": "aws", "launchpad:adminCidrs": ["203.0.113.7/32"]}, "launchpad:sshKeys: [] while adminCidrs opens SSH; password login is off, so add a public key"),
    ({"launchpad:sshKeys": ["AAAA-not-a-key"]}, "launchpad:sshKeys[0]: 'AAAA-not-a-key' is not an OpenSSH public key"),
    ({"launchpad:domain": "www.example.com"}, "launchpad:domain: 'www.example.com': give the apex domain ('example.com'); www. redirects to it"),
    ({"launchpad:domain": "exa mple.com"}, "launchpad:domain: 'exa mple.com' is not a valid domain name; expected like example.com"),
    ({"launchpad:domain": "example.com", "launchpad:email": "ops-at-example.com"}, "launchpad:email: 'ops-at-example.com' is not an email address"),
    ({"launchpad:email": "ops@example.com"}, "launchpad:email: 'ops@example.com' is set but 'domain' is not"),
    ({"launchpad:app": {"path": "no/such/folder"}}, "launchpad:app.path: 'no/such/folder' is not a folder"),
    ({"launchpad:app": {"module": "rocket"}}, "launchpad:app.module: 'rocket' is not a WSGI entry point; expected 'module:variable' like 'rocket:app'"),
    ({"launchpad:app": {"module": "wsgi:app"}}, "launchpad:app.module: 'wsgi:app': no wsgi.py or wsgi/__init__.py in"),
    ({"launchpad:app": {"name": "Rocket App"}}, "launchpad:app.name: 'Rocket App' is not a unix name"),
    ({"launchpad:app": {"env": {"SECRET_KEY": "abc"}}}, "launchpad:app.env.SECRET_KEY: 'SECRET_KEY' looks like a secret"),
    ({"launchpad:app": {"workers": 0}}, "launchpad:app.workers: 0: Input should be greater than or equal to 1"),
    ({"launchpad:app": {"modul": "x:y"}}, "launchpad:app.modul: unknown key (did you mean 'module'?)"),
    ({"launchpad:provider": "aws", "launchpad:database": {"enabled": True, "version": "9.6"}}, "launchpad:database.version: '9.6' is not offered on aws; valid: 13, 14, 15, 16, 17"),
    ({"launchpad:database": {"enabled": True, "version": "16"}}, "launchpad:database.version: '16' is not offered on local; valid: 15"),
    ({"launchpad:provider": "aws", "launchpad:database": {"backupRetentionDays": -1}}, "launchpad:database.backupRetentionDays: -1 is out of range; RDS keeps 1 to 35 days"),
    ({"launchpad:database": {"backupRetentionDays": -1}}, "launchpad:database.backupRetentionDays: -1 is negative"),
    ({"launchpad:provider": "digitalocean", "launchpad:database": {"backupRetentionDays": 14}}, "launchpad:database.backupRetentionDays: 14: DigitalOcean keeps backups 7 days, fixed; remove the key"),
    ({"launchpad:provider": "aws", "launchpad:database": {"size": "t3.micro"}}, "launchpad:database.size: 't3.micro' is not an RDS instance class; expected like db.t4g.micro"),
    ({"launchpad:database": {"name": "postgres"}}, "launchpad:database.name: 'postgres' is not a usable database name"),
    ({"launchpad:database": {"enabeld": True}}, "launchpad:database.enabeld: unknown key (did you mean 'enabled'?)"),
    ({"launchpad:regoin": "nyc3"}, "launchpad:regoin: unknown key (did you mean 'region'?); valid keys here: provider, region"),
    ({"launchpad:rateLimit": -5}, "launchpad:rateLimit: -5: Input should be greater than or equal to 0"),
    ({"digitalocean:token": "dop_v1_abc"}, "digitalocean:token: is stored in plain text; set it with `pulumi config set --secret digitalocean:token`"),
    ({"aws:secretKey": "abc"}, "aws:secretKey: is stored in plain text"),
    ({"launchpad:domain": {"secure": "v1:abc"}}, "launchpad:domain: is a secret, but only app.secrets.<NAME> takes secrets"),
    ({"launchpad:app": {"env": {"DEBUG": {"secure": "v1:abc"}}}}, "launchpad:app.env.DEBUG: is a secret, but only app.secrets.<NAME> takes secrets"),
    # Releases (issue 10).
    ({"launchpad:app": {"secrets": {"SECRET_KEY": "hunter2"}}},
     "launchpad:app.secrets.SECRET_KEY: is stored in plain text; set it with `pulumi config set --secret --path 'launchpad:app.secrets.SECRET_KEY' <value>`"),
    ({"launchpad:app": {"secrets": {"secret-key": {"secure": "v1:abc"}}}}, "launchpad:app.secrets.secret-key: 'secret-key' is not an environment variable name"),
    ({"launchpad:app": {"env": {"MODE": "x"}, "secrets": {"MODE": {"secure": "v1:abc"}}}}, "launchpad:app.secrets.MODE: 'MODE' is also in app.env"),
    ({"launchpad:app": {"module": "rocket:create_app(os.getenv('X'))"}}, "launchpad:app.module: \"rocket:create_app(os.getenv('X'))\" is not a WSGI entry point"),
    ({"launchpad:app": {"module": "rocket:create_app(x=y)"}}, "launchpad:app.module: 'rocket:create_app(x=y)': an argument is not a literal"),
    ({"launchpad:app": {"module": "rocket:app;id"}}, "launchpad:app.module: 'rocket:app;id' is not a WSGI entry point"),
    ({"launchpad:app": {"healthPath": "healthz"}}, "launchpad:app.healthPath: 'healthz' is not a URL path; expected like /healthz"),
    ({"launchpad:app": {"release": "flask db upgrade\nrm -rf /"}}, "launchpad:app.release: 'flask db upgrade\\nrm -rf /': expected one shell command line"),
    ({"launchpad:app": {"static": {"/assets/": "../dist"}}}, "launchpad:app.static./assets/: '../dist': expected a folder inside the app"),
    ({"launchpad:app": {"static": {"/assets/": "dist"}}}, "launchpad:app.static./assets/: 'dist' is not a folder in the app"),
    ({"launchpad:app": {"writable": ["/var/log"]}}, "launchpad:app.writable[0]: '/var/log': expected a folder inside the app"),
    ({"launchpad:app": {"keepReleases": 99}}, "launchpad:app.keepReleases: 99: Input should be less than or equal to 50"),
]


@pytest.mark.parametrize("config, message", BAD, ids=[m.split(":")[1] + "-" + str(i) for i, (_, m) in enumerate(BAD)])
def test_bad_config_gets_its_exact_error(config: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate(config, "test")
    lines = [str(p) for p in err.value.problems]
    assert any(line.startswith(message) for line in lines), lines


@pytest.mark.parametrize("provider", ["aws", "digitalocean", "local"])
def test_no_app_size_limit_any_more(tmp_path: Path, provider: str) -> None:
    # The app ships as a release artifact from the stack's store, not in user-data.
    app = tmp_path / "big"
    app.mkdir()
    (app / "rocket.py").write_text("app = None\n")
    (app / "blob.bin").write_bytes(__import__("os").urandom(200_000))  # far past 16 KiB, incompressible
    validate({"launchpad:provider": provider, "launchpad:app": {"path": str(app)}}, "test")


def test_release_keys_accepted(tmp_path: Path) -> None:
    (tmp_path / "journal" / "static").mkdir(parents=True)
    (tmp_path / "journal" / "__init__.py").write_text("def create_app(config=None):\n    return None\n")
    app = {"path": str(tmp_path), "module": "journal:create_app('prod', debug=False)", "release": "flask db upgrade",
           "healthPath": "/healthz", "static": {"/static/": "journal/static"}, "writable": ["uploads"], "keepReleases": 10,
           "secrets": {"SECRET_KEY": {"secure": "v1:abc"}}}
    settings = validate({"launchpad:app": app}, "test")
    assert settings.app.keep_releases == 10 and settings.app.health_path == "/healthz"
    # From a stack file the CLI cannot decrypt: a placeholder, and never the ciphertext.
    assert settings.app.secrets["SECRET_KEY"].get_secret_value() == "**********"
    assert "v1:abc" not in settings.model_dump_json()


def test_program_secrets_are_values_and_must_be_encrypted_in_the_stack_file() -> None:
    raw = {"launchpad:app": {"secrets": {"SECRET_KEY": "s3cr3t", "API_TOKEN": "t0k3n"}}}
    keys = frozenset({"launchpad:app"})
    settings = validate(raw, "test", secret_keys=keys, secure_paths=frozenset({"app.secrets.SECRET_KEY", "app.secrets.API_TOKEN"}))
    assert settings.app.secrets["SECRET_KEY"].get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in settings.model_dump_json(by_alias=True)
    with pytest.raises(ConfigError, match=r"app.secrets.API_TOKEN: is stored in plain text"):
        validate(raw, "test", secret_keys=keys, secure_paths=frozenset({"app.secrets.SECRET_KEY"}))


def test_every_problem_is_reported_at_once() -> None:
    config = {"launchpad:provider": "aws", "launchpad:region": "mars-1", "launchpad:size": "huge", "launchpad:adminCidrs": ["0.0.0.0/0"],
              "launchpad:sshKeys": [KEY], "launchpad:domain": "www.example.com", "launchpad:databse": {}, "launchpad:app": {"workers": 0}}
    with pytest.raises(ConfigError) as err:
        validate(config, "prod")
    keys = [p.key for p in err.value.problems]
    assert sorted(keys) == sorted(["region", "size", "adminCidrs[0]", "domain", "databse", "app.workers"])
    assert str(err.value).startswith("Stack 'prod' configuration has 6 problems:")


def test_defaults_follow_the_provider() -> None:
    aws = validate({"launchpad:provider": "aws"}, "t")
    do = validate({"launchpad:provider": "digitalocean"}, "t")
    assert (aws.resolved_region, aws.resolved_size, aws.database_size) == ("us-east-1", "t3.small", "db.t4g.micro")
    assert (do.resolved_region, do.resolved_size, do.database_size) == ("nyc3", "s-1vcpu-1gb", "db-s-1vcpu-1gb")
    assert validate({}, "t").provider == "local"


def test_secret_provider_keys_pass_when_encrypted() -> None:
    validate({"digitalocean:token": {"secure": "v1:abc"}}, "t")
    validate({"digitalocean:token": "dop_v1_abc"}, "t", secret_keys=frozenset({"digitalocean:token"}))


def test_tls_only_with_domain_and_email_on_a_cloud() -> None:
    full = {"launchpad:domain": "example.com", "launchpad:email": "ops@example.com"}
    assert validate({**full, "launchpad:provider": "aws"}, "t").tls
    assert not validate(full, "t").tls  # Let's Encrypt cannot reach a local machine
    assert not validate({"launchpad:provider": "aws", "launchpad:domain": "example.com"}, "t").tls


@pytest.mark.parametrize("stack", sorted(p.name.split(".")[1] for p in ROOT.glob("Pulumi.*.yaml")))
def test_committed_stacks_are_valid(stack: str) -> None:
    assert s.load_from_file(stack).stack == stack


def test_unknown_stack_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"Pulumi.prd.yaml: no such file for stack 'prd' \(did you mean 'prod'\?\)"):
        s.load_from_file("prd")


def test_pulumi_yaml_declares_every_scalar_key_as_the_model_does() -> None:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    kinds = {bool: "boolean", int: "integer", str: "string", list: "array"}
    for name, f in s.Settings.model_fields.items():
        key = f"launchpad:{f.alias or name}"
        if f.exclude or name in ("app", "database", "autoscale"):
            assert key not in declared  # objects: Pulumi project config has no object type
            continue
        assert key in declared, key
        assert declared[key]["description"] == (f.description or "").replace("`", ""), key
        default = f.get_default(call_default_factory=True)
        if default is None:
            assert "default" not in declared[key], key
        else:
            assert declared[key]["default"] == default, key
            assert declared[key]["type"] == kinds[type(default)], key
    assert set(declared) == {f"launchpad:{f.alias or n}" for n, f in s.Settings.model_fields.items() if not f.exclude and n not in ("app", "database", "autoscale")}


def test_readme_config_reference_is_generated_from_the_model() -> None:
    assert s.reference_markdown() in (ROOT / "README.md").read_text()
