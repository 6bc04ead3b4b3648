"""A single host's certificate settings (issue 12): `dnsZone` with one host and `dnsChallengeServer`:
what is accepted, how it is resolved (DNS-01 or HTTP-01, managed records), and every refusal's
exact message (key, value, what is valid)."""

from __future__ import annotations

import pytest

from launchpad.settings import ConfigError, validate

TLS = {"launchpad:domain": "rocket.example.com", "launchpad:email": "ops@example.com"}
LOCAL_TLS = {"launchpad:provider": "local", "launchpad:domain": "rocket.test", "launchpad:email": "ops@rocket.test",
             "launchpad:acmeServer": "https://10.213.0.1:14000/dir"}


def problems(config: dict) -> str:
    with pytest.raises(ConfigError) as err:
        validate(config, "t")
    return str(err.value)


@pytest.mark.parametrize("provider", ["aws", "digitalocean"])
def test_one_host_with_a_zone_gets_managed_records_and_dns01_where_offered(provider: str) -> None:
    s = validate({"launchpad:provider": provider, **TLS, "launchpad:dnsZone": "example.com"}, "t")
    assert s.tls and s.host_dns and not s.balancer_tls
    assert s.dns01 is (provider == "aws")  # DigitalOcean: no token delivery to the droplet yet, HTTP-01


@pytest.mark.parametrize("provider", ["aws", "digitalocean"])
def test_without_a_zone_one_host_keeps_http01(provider: str) -> None:
    s = validate({"launchpad:provider": provider, **TLS}, "t")
    assert s.tls and not s.dns01 and not s.host_dns


def test_a_zone_without_email_manages_records_only() -> None:
    s = validate({"launchpad:provider": "aws", "launchpad:domain": "example.com", "launchpad:dnsZone": "example.com."}, "t")
    assert s.host_dns and not s.tls and not s.dns01


def test_local_dns01_goes_through_the_challenge_test_server() -> None:
    s = validate({**LOCAL_TLS, "launchpad:dnsZone": "rocket.test", "launchpad:dnsChallengeServer": "http://10.213.0.1:8055"}, "t")
    assert s.dns01 and s.dns_challenge_server == "http://10.213.0.1:8055"


@pytest.mark.parametrize("config, message", [
    ({"launchpad:provider": "aws", **TLS, "launchpad:dnsZone": "example.org"},
     "launchpad:dnsZone: 'example.org' does not hold the domain 'rocket.example.com'; give the zone the domain is in, like 'example.com'"),
    ({"launchpad:provider": "aws", "launchpad:dnsZone": "example.com"},
     "launchpad:dnsZone: 'example.com' is set but 'domain' is not; the zone holds the domain's records and validates its certificate"),
    ({**LOCAL_TLS, "launchpad:dnsZone": "rocket.test"},
     "launchpad:dnsZone: 'rocket.test': the local target has no DNS of its own; DNS-01 here goes through a test server: "
     "set dnsChallengeServer (pebble-challtestsrv's management URL), or remove dnsZone"),
    ({"launchpad:provider": "local", "launchpad:domain": "rocket.test", "launchpad:dnsZone": "rocket.test",
      "launchpad:dnsChallengeServer": "http://10.213.0.1:8055"},
     "launchpad:dnsZone: 'rocket.test' on the local target needs acmeServer (a private ACME server such as Pebble)"),
    ({"launchpad:provider": "aws", **TLS, "launchpad:dnsZone": "example.com", "launchpad:dnsChallengeServer": "http://10.0.0.1:8055"},
     "launchpad:dnsChallengeServer: 'http://10.0.0.1:8055': a DNS challenge test server is for the local target only; on aws "
     "certbot sets the TXT records in dnsZone itself: remove the key"),
    ({**LOCAL_TLS, "launchpad:dnsZone": "rocket.test", "launchpad:dnsChallengeServer": "http://h.test:8055/$(id)"},
     "launchpad:dnsChallengeServer: 'http://h.test:8055/$(id)' is not a challenge test server's management URL; expected "
     "http://<ipv4>:<port> like http://10.213.0.1:8055 (no path, name or credentials)"),
    ({**LOCAL_TLS, "launchpad:dnsChallengeServer": "http://10.213.0.1:8055"},
     "launchpad:dnsChallengeServer: 'http://10.213.0.1:8055' is set but 'dnsZone' is not"),
])
def test_refusals(config: dict, message: str) -> None:
    assert message in problems(config)


def test_a_trailing_newline_is_not_a_challenge_server() -> None:
    assert "dnsChallengeServer" in problems({**LOCAL_TLS, "launchpad:dnsZone": "rocket.test",
                                              "launchpad:dnsChallengeServer": "http://10.213.0.1:8055\n"})


DO_DNS = {"launchpad:provider": "digitalocean", **TLS, "launchpad:dnsZone": "example.com", "launchpad:dnsToken": "dop_v1_x"}
SECRET = frozenset({"launchpad:dnsToken"})


def test_digitalocean_dns01_with_a_secret_token_which_settings_only_mask() -> None:
    s = validate(DO_DNS, "t", SECRET)
    assert s.dns01 and s.dns_token is not None and s.dns_token.get_secret_value() == "**********"


def test_a_plain_dns_token_is_refused_with_the_command_that_stores_it_encrypted() -> None:
    assert ("launchpad:dnsToken: is stored in plain text; set it with `pulumi config set --secret launchpad:dnsToken <value>`"
            in problems(DO_DNS))


def test_an_encrypted_dns_token_in_the_stack_file_is_accepted() -> None:
    s = validate({**DO_DNS, "launchpad:dnsToken": {"secure": "v1:abc"}}, "t")
    assert s.dns01


@pytest.mark.parametrize("config, message", [
    ({**DO_DNS, "launchpad:provider": "aws"},
     "launchpad:dnsToken: is for DigitalOcean droplets only (certbot's DigitalOcean DNS plugin); on aws the host needs no token"),
    ({k: v for k, v in DO_DNS.items() if k != "launchpad:dnsZone"},
     "launchpad:dnsToken: is set but unused: it serves DNS-01 for one droplet with domain, email and dnsZone"),
])
def test_dns_token_refusals(config: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        validate(config, "t", SECRET)
    assert message in str(err.value)
