"""launchpad:hosts, launchpad:autoscale, launchpad:dnsZone: what is accepted, and every refusal's exact message."""

from __future__ import annotations

from pathlib import Path

import pytest

from launchpad.settings import ConfigError, validate
from launchpad.settings.scaling import sqlite_use

ROOT = Path(__file__).resolve().parents[3]
AWS = {"launchpad:provider": "aws"}
DO = {"launchpad:provider": "digitalocean"}
DB = {"launchpad:database": {"enabled": True}}
NOTES = {"launchpad:app": {"path": "tests/apps/notes", "module": "notes:create_app()"}}
ZONED = {"launchpad:domain": "rocket.example.com", "launchpad:dnsZone": "example.com"}


def problems(config: dict) -> str:
    with pytest.raises(ConfigError) as err:
        validate(config, "t")
    return str(err.value)


def test_one_host_is_the_default_and_keeps_the_single_host_shape() -> None:
    s = validate({}, "t")
    assert (s.hosts, s.autoscale, s.dns_zone, s.balanced, s.trusted_proxies) == (1, None, None, False, 1)


@pytest.mark.parametrize("config", [AWS, DO, {}])
def test_more_hosts_stand_behind_a_balancer_and_trust_two_proxies(config: dict) -> None:
    s = validate({**config, "launchpad:hosts": 3}, "t")
    assert s.balanced and s.trusted_proxies == 2 and not s.tls and not s.https


def test_balancer_tls_needs_the_zone_and_replaces_certbot_on_the_hosts() -> None:
    s = validate({**AWS, **ZONED, "launchpad:hosts": 2, "launchpad:email": "ops@example.com"}, "t")
    assert s.balancer_tls and s.https and not s.tls


def test_autoscale_on_aws_starts_at_min_or_at_hosts() -> None:
    s = validate({**AWS, "launchpad:autoscale": {"min": 2, "max": 6, "targetCpu": 60}}, "t")
    assert s.balanced and s.autoscale is not None and (s.autoscale.min, s.autoscale.max, s.autoscale.target_cpu) == (2, 6, 60)
    assert validate({**AWS, "launchpad:hosts": 4, "launchpad:autoscale": {"min": 2, "max": 6}}, "t").hosts == 4


@pytest.mark.parametrize("config, message", [
    ({"launchpad:hosts": 0}, "launchpad:hosts: 0: Input should be greater than or equal to 1"),
    ({"launchpad:hosts": 21}, "launchpad:hosts: 21: Input should be less than or equal to 20"),
    ({**DO, "launchpad:autoscale": {"min": 2, "max": 4}},
     "launchpad:autoscale: {min: 2, max: 4}: autoscaling is offered on aws only (an Auto Scaling group); on digitalocean set a fixed number with `hosts`"),
    ({"launchpad:autoscale": {"min": 2, "max": 4}}, "launchpad:autoscale: {min: 2, max: 4}: autoscaling is offered on aws only"),
    ({**AWS, "launchpad:autoscale": {"min": 4, "max": 2}}, "launchpad:autoscale.min: 4 is above autoscale.max (2); expected min <= max"),
    ({**AWS, "launchpad:autoscale": {"min": 1, "max": 1}}, "launchpad:autoscale.max: 1: a group that never grows past one host needs no autoscaling"),
    ({**AWS, "launchpad:autoscale": {"min": 2, "max": 4, "targetCPU": 50}}, "launchpad:autoscale.targetCPU: unknown key (did you mean 'targetCpu'?); valid keys here: min, max, targetCpu"),
    ({**AWS, "launchpad:autoscale": {"max": 4}}, "launchpad:autoscale.min:"),
    ({**AWS, "launchpad:autoscale": {"min": 2, "max": 4, "targetCpu": 95}}, "launchpad:autoscale.targetCpu: 95: Input should be less than or equal to 90"),
    ({**AWS, "launchpad:hosts": 8, "launchpad:autoscale": {"min": 2, "max": 4}},
     "launchpad:hosts: 8 is outside autoscale min..max (2..4); with autoscale, hosts is the starting size"),
    ({**AWS, "launchpad:hosts": 2, "launchpad:dnsZone": "example.com"},
     "launchpad:dnsZone: 'example.com' is set but 'domain' is not"),
    ({**AWS, "launchpad:hosts": 2, "launchpad:domain": "rocket.example.com", "launchpad:dnsZone": "example.org"},
     "launchpad:dnsZone: 'example.org' does not hold the domain 'rocket.example.com'; give a Route 53 hosted zone the domain is in, like 'example.com'"),
    ({"launchpad:hosts": 2, **ZONED}, "launchpad:dnsZone: 'example.com': the local provider has no DNS zone to validate a certificate through"),
    ({**AWS, "launchpad:hosts": 2, "launchpad:domain": "rocket.example.com", "launchpad:email": "ops@example.com"},
     "launchpad:dnsZone: unset, while email asks for HTTPS with hosts > 1: the certificate is the balancer's (an ACM certificate validated "
     "through DNS records in the zone), so set dnsZone to a Route 53 hosted zone holding 'rocket.example.com'; or remove email"),
    ({**DO, "launchpad:hosts": 2, "launchpad:domain": "rocket.example.com", "launchpad:email": "ops@example.com"},
     "launchpad:dnsZone: unset, while email asks for HTTPS with hosts > 1: the certificate is the balancer's (a Let's Encrypt certificate "
     "DigitalOcean obtains and renews), so set dnsZone to a domain whose DNS DigitalOcean hosts"),
    ({"launchpad:hosts": 2, "launchpad:domain": "rocket.example.com", "launchpad:email": "ops@example.com",
      "launchpad:acmeServer": "https://pebble.test/dir"},
     "launchpad:email: 'ops@example.com': with hosts > 1 on local, HAProxy on a local machine of its own serves plain HTTP"),
    # State that would diverge between hosts.
    ({"launchpad:hosts": 3, **NOTES},
     "launchpad:hosts: 3 without a shared database, and the app uses SQLite (notes/db.py:3: 'import sqlite3'): each host would keep "
     "its own database file and they would diverge; set database.enabled: true (PostgreSQL, shared by every host) or keep hosts: 1"),
    ({**AWS, "launchpad:autoscale": {"min": 2, "max": 5}, **NOTES},
     "launchpad:autoscale: up to 5 hosts without a shared database, and the app uses SQLite (notes/db.py:3"),
    ({"launchpad:hosts": 2, "launchpad:app": {"writable": ["logs"]}},
     "launchpad:app.writable: ['logs'] with hosts: 2: each host would write its own copy of these folders and they would diverge"),
])
def test_refusals(config: dict, message: str) -> None:
    assert message in problems(config)


def test_sqlite_is_allowed_with_a_shared_database_and_with_one_host() -> None:
    validate({"launchpad:hosts": 3, **NOTES, **DB}, "t")
    validate(NOTES, "t")


def test_sqlite_scan_reads_code_not_prose_nor_the_apps_tests(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('"""Unlike SQLite, this app keeps nothing."""\n# import sqlite3 was here\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text("import sqlite3\n")
    (tmp_path / "test_app.py").write_text("import sqlite3\n")
    assert sqlite_use(tmp_path) is None
    (tmp_path / "store.py").write_text('URL = "sqlite:///data.db"\n')
    assert sqlite_use(tmp_path) == ("store.py", 1, 'URL = "sqlite:///data.db"')
    (tmp_path / ".launchpadignore").write_text("store.py\n")
    assert sqlite_use(tmp_path) is None


def test_the_sample_and_journal_apps_are_stateless_or_use_the_database() -> None:
    assert sqlite_use(ROOT / "files" / "app") is None
    validate({"launchpad:hosts": 3}, "t")


def test_the_local_target_boots_one_web_machine_per_host_behind_its_balancer() -> None:
    from launchpad import local_plan

    assert local_plan.plan_for(validate({"launchpad:hosts": 3}, "t")).hosts == 3
    assert local_plan.plan_for(validate({**AWS, "launchpad:autoscale": {"min": 2, "max": 4}}, "t")).hosts == 2
