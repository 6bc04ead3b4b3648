"""Issue 13, #6 and #11: the health probe on port 80 of a TLS stack is rate limited; scheme and
forwarding headers a client sends never reach the app; without a domain the host answers on
its address (documented in the README's security model)."""

from __future__ import annotations

import re

from launchpad.render.bootstrap import render_nginx_site
from launchpad.settings import validate

TLS = {"launchpad:provider": "aws", "launchpad:domain": "example.com", "launchpad:email": "ops@example.com"}


def _location(site: str, name: str) -> str:
    match = re.search(r"location = " + re.escape(name) + r" \{(.*?)\n    \}", site, re.S)
    assert match, name
    return match.group(1)


def test_healthz_on_port_80_is_rate_limited_in_tls_stacks() -> None:
    for cert_ready in (False, True):
        site = render_nginx_site(validate(TLS, "t"), cert_ready=cert_ready, cert_dir="/x")
        assert "limit_req zone=launchpad burst=40 nodelay;" in _location(site, "/healthz")


def test_no_limit_when_rate_limiting_is_off() -> None:
    site = render_nginx_site(validate({**TLS, "launchpad:rateLimit": 0}, "t"))
    assert "limit_req" not in site


def test_client_scheme_headers_are_dropped_wherever_the_app_is_proxied() -> None:
    for raw in ({}, {"launchpad:domain": "rocket.test"}, TLS):
        site = render_nginx_site(validate(raw, "t"), cert_ready=True, cert_dir="/x")
        proxies = site.count("proxy_pass ")
        assert proxies >= 1
        for header in ("X-Forwarded-Ssl", "X-Forwarded-Protocol", "X-Forwarded-Port", "X-Forwarded-Prefix", "Forwarded"):
            assert site.count(f'proxy_set_header {header} "";') == proxies, header
        assert site.count("proxy_set_header X-Forwarded-Proto $scheme;") == proxies


def test_unknown_hosts_are_dropped_when_a_domain_is_set() -> None:
    site = render_nginx_site(validate({"launchpad:domain": "rocket.test"}, "t"))
    assert re.search(r"listen 80 default_server;.*?server_name _;\s+return 444;", site, re.S)
