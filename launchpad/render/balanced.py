"""What a host behind the provider's load balancer needs beyond a single host (issue 14).

Pure: plain values in, text out. The stacks pass the balancer's address range (AWS: the
load balancer's own subnets; DigitalOcean: the stack's VPC, whose only member admitted on
80/443 is the balancer; local: the balancer machine's fixed /30, `local_balancer_subnet`).

- `nginx_balancer_conf`: http-level realip (`set_real_ip_from` exactly that range,
  `real_ip_header X-Forwarded-For`, `real_ip_recursive on`) and the client's scheme as the
  balancer reported it; the site (nginx-site.conf.j2, `balanced`) sends the app one
  X-Forwarded-* entry per proxy, so ProxyFix trusting 2 hops sees the real client and a
  forged X-Forwarded-For changes nothing.
- `web_sources`: who the host's own firewall (files/nftables.conf.j2) lets open 80/443: the
  balancer's range on the clouds, as their firewall / security group already does.
- `health_path`: what the balancer's health check asks (the app's health path).
- `local_balancer_subnet`: the local balancer machine's /30, a function of the stack name,
  so the web machines' user-data can name it before any machine boots.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from ipaddress import IPv4Network

from launchpad.render.templates import render_template
from launchpad.settings import Settings

CONF_PATH = "/etc/nginx/conf.d/launchpad-balancer.conf"
"""Included by Debian's nginx.conf (conf.d/*.conf), beside launchpad.conf."""

AWS_BALANCER_CIDRS = ("10.0.20.0/24", "10.0.21.0/24")
"""The Application Load Balancer's own subnets (components/aws/network.py): nothing else lives there."""

LOCAL_POOL = IPv4Network("10.213.0.0/16")
"""launchpad/local/net.py's pool; the balancer's /30 is taken from it by name, not by luck."""


def local_balancer_name(stack: str) -> str:
    return f"lp-{stack}-lb"


def local_balancer_subnet(stack: str) -> IPv4Network:
    """The /30 of the stack's local balancer machine: fixed by the stack's name, so the web
    machines' user-data can trust exactly its address before it boots. (net.choose_subnet's
    first choice for the same name; the runtime refuses to boot if something else holds it.)"""
    subnets = 1 << (30 - LOCAL_POOL.prefixlen)
    index = int.from_bytes(hashlib.sha256(local_balancer_name(stack).encode()).digest()[:8], "big") % subnets
    return IPv4Network((int(LOCAL_POOL.network_address) + index * 4, 30))


def local_balancer_address(stack: str) -> str:
    return str(local_balancer_subnet(stack).network_address + 2)


def default_cidrs(settings: Settings) -> tuple[str, ...]:
    """The balancer's range when the stack knows it without asking the cloud (AWS, local);
    DigitalOcean's VPC range comes from the VPC itself."""
    if settings.provider == "aws":
        return AWS_BALANCER_CIDRS
    if settings.provider == "local":
        return (f"{local_balancer_address(settings.stack)}/32",)
    return ()


def web_sources(settings: Settings, cidrs: Sequence[str] = ()) -> tuple[str, ...]:
    """Sources the host's nftables admits on 80/443; () = anyone. Behind a cloud balancer: its range
    only (`cidrs`, else the range the stack knows by itself), so a host whose security group or
    cloud firewall were opened by mistake still answers the web only through the balancer. One host:
    anyone. The local target: anyone in the machine, because the host's own nft table admits the
    balancer machine alone, and the deployer probes each machine directly while it rolls a release
    (launchpad/local/rolling.py)."""
    if not settings.balanced or settings.provider == "local":
        return ()
    return tuple(cidrs) or default_cidrs(settings)


def health_path(settings: Settings) -> str:
    """The path the balancer's health check asks: the app's health path, else `/` (where, as for
    releases, any answer below 500 counts)."""
    return getattr(settings.app, "health_path", None) or "/"


def healthy_codes(settings: Settings) -> str:
    """HTTP codes the balancer counts healthy (the ALB's matcher syntax)."""
    return "200" if getattr(settings.app, "health_path", None) else "200-499"


def nginx_balancer_conf(settings: Settings, cidrs: Sequence[str]) -> str:
    balancer = settings.profile.balancer
    if not cidrs:
        raise ValueError(f"stack {settings.stack}: no address range for the balancer; nginx would trust no one's X-Forwarded-For")
    return render_template("nginx-balancer.conf.j2", stack=settings.stack, cidrs=list(cidrs), hops=settings.trusted_proxies,
                           balancer=balancer.title if balancer else "the load balancer")
