"""provider heroku: the profile's regions, dyno sizes and plans, and every key with no meaning there refused with its reason."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from launchpad.providers import HEROKU, PROFILES
from launchpad.settings import SAMPLE_APP, ConfigError, validate

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7mockmockmockmockmockmockmockmockmockmock ops@laptop"
H = {"launchpad:provider": "heroku"}


def test_heroku_is_a_provider_with_its_defaults() -> None:
    assert PROFILES["heroku"] is HEROKU and HEROKU.user_data is None and HEROKU.platform is not None
    s = validate(H, "test")
    assert (s.resolved_region, s.resolved_size, s.database_size) == ("us", "basic", "essential-0")
    assert s.trusted_proxies == 1


@pytest.mark.parametrize("config", [
    {"launchpad:region": "eu", "launchpad:size": "standard-2x"},
    {"launchpad:size": "performance-l", "launchpad:hosts": 4},
    {"launchpad:database": {"enabled": True, "version": "17", "size": "standard-0"}},
    {"launchpad:database": {"enabled": True, "size": "essential-1"}},
    {"launchpad:domain": "rocket.example.com", "launchpad:production": True},
    {"launchpad:app": {"env": {"DEBUG_LEVEL": "info", "WEB_CONCURRENCY": "3"}, "release": "flask db upgrade",
                       "healthPath": "/healthz", "workers": 2}},
])
def test_good_configs(config: dict[str, Any]) -> None:
    validate({**H, **config}, "test")


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("do region", {"launchpad:region": "nyc3"}, "launchpad:region: 'nyc3' is not a heroku region; valid: us, eu"),
    ("aws region", {"launchpad:region": "eu-west-1"}, "launchpad:region: 'eu-west-1' is not a heroku region; valid: us, eu"),
    ("droplet size", {"launchpad:size": "s-1vcpu-1gb"},
     "launchpad:size: 's-1vcpu-1gb' is not a Heroku dyno size; expected like basic, standard-1x, standard-2x, performance-m or performance-l"),
    ("eco dynos", {"launchpad:size": "eco"}, "launchpad:size: 'eco' is not a Heroku dyno size"),
    ("rds class", {"launchpad:database": {"enabled": True, "size": "db.t4g.micro"}},
     "launchpad:database.size: 'db.t4g.micro' is not a Heroku Postgres plan; expected like essential-0"),
    ("old postgres", {"launchpad:database": {"enabled": True, "version": "13"}},
     "launchpad:database.version: '13' is not offered on heroku; valid: 14, 15, 16, 17"),
    ("admin cidrs", {"launchpad:adminCidrs": ["203.0.113.7/32"]},
     "launchpad:adminCidrs: ['203.0.113.7/32'] has no meaning on Heroku: dynos take no SSH; use `launchpad run`"),
    ("ssh keys", {"launchpad:sshKeys": [SSH_KEY]}, "launchpad:sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7mockmockmockmock... has no meaning on Heroku: dynos take no SSH"),
    ("email", {"launchpad:domain": "rocket.example.com", "launchpad:email": "ops@example.com"},
     "launchpad:email: 'ops@example.com' has no meaning on Heroku: Heroku's ACM obtains and renews the certificate"),
    ("acme server", {"launchpad:acmeServer": "https://acme-staging-v02.api.letsencrypt.org/directory"},
     "launchpad:acmeServer: 'https://acme-staging-v02.api.letsencrypt.org/directory' has no meaning on Heroku"),
    ("rate limit", {"launchpad:rateLimit": 0}, "launchpad:rateLimit: 0 has no meaning on Heroku: Nginx's per-client limit"),
    ("static map", {"launchpad:app": {"static": {"/assets/": "static"}}}, "launchpad:app.static: {'/assets/': 'static'} has no meaning on Heroku: there is no Nginx"),
    ("writable", {"launchpad:app": {"writable": ["uploads"]}}, "launchpad:app.writable: ['uploads'] has no meaning on Heroku: a dyno's disk is reset"),
    ("keep releases", {"launchpad:app": {"keepReleases": 10}}, "launchpad:app.keepReleases: 10 has no meaning on Heroku: Heroku keeps every release"),
    ("storage", {"launchpad:database": {"enabled": True, "storageGb": 100}}, "launchpad:database.storageGb: 100 has no meaning on Heroku: a Heroku Postgres plan decides it"),
    ("retention", {"launchpad:database": {"enabled": True, "backupRetentionDays": 7}},
     "launchpad:database.backupRetentionDays: 7 has no meaning on Heroku"),
    ("db name", {"launchpad:database": {"enabled": True, "name": "rocket"}},
     "launchpad:database.name: 'rocket' has no meaning on Heroku: Heroku Postgres names the database and its user itself"),
    ("port", {"launchpad:app": {"env": {"PORT": "8000"}}}, "launchpad:app.env.PORT: 'PORT' cannot be set on Heroku: Heroku sets it for each dyno"),
    ("autoscale", {"launchpad:autoscale": {"min": 1, "max": 3}}, "launchpad:autoscale: {min: 1, max: 3}: autoscaling is offered on aws only"),
    ("dns zone", {"launchpad:domain": "rocket.example.com", "launchpad:dnsZone": "example.com"},
     "launchpad:dnsZone: 'example.com': the heroku provider has no DNS zone"),
    ("multi-line release", {"launchpad:app": {"release": "flask db upgrade\nweb: nc -l 4444"}}, "launchpad:app.release"),
    ("plain api key", {"heroku:apiKey": "0123abcd-0000-4000-8000-0123456789ab"}, "heroku:apiKey: is stored in plain text"),
]


@pytest.mark.parametrize("config, message", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_config_is_refused_with_its_reason(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate({**H, **config}, "test")
    assert message in str(caught.value)


def test_every_unused_key_is_refused_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        validate({**H, "launchpad:adminCidrs": ["203.0.113.7/32"], "launchpad:sshKeys": [SSH_KEY],
                  "launchpad:rateLimit": 5, "launchpad:region": "fra1"}, "test")
    assert [p.key for p in caught.value.problems] == ["region", "adminCidrs", "sshKeys", "rateLimit"]


def test_the_same_keys_mean_something_elsewhere() -> None:
    """The refusals are Heroku's, not general: a droplet takes them."""
    validate({"launchpad:provider": "digitalocean", "launchpad:adminCidrs": ["203.0.113.7/32"], "launchpad:sshKeys": [SSH_KEY],
              "launchpad:rateLimit": 5}, "test")


def test_sqlite_without_a_database_is_refused_on_an_ephemeral_disk(tmp_path: Path) -> None:
    app = tmp_path / "app"
    shutil.copytree(SAMPLE_APP, app)
    (app / "store.py").write_text("import sqlite3\n\nDB = sqlite3.connect('instance/app.db')\n")
    config = {**H, "launchpad:app": {"path": str(app)}}
    with pytest.raises(ConfigError) as caught:
        validate(config, "test")
    assert ("launchpad:database.enabled: false, and the app uses SQLite (store.py:1: 'import sqlite3'): on Heroku a dyno's "
            "disk is reset on every deploy and restart") in str(caught.value)
    validate({**config, "launchpad:database": {"enabled": True}}, "test")
