"""The DigitalOcean Load Balancer in front of the stack's droplets (launchpad:hosts > 1).

Creates:
- digitalocean.LoadBalancer in the stack's VPC, sending to every droplet with the stack's
  *rotation* tag (`rotation_tag`, default the host tag) over the VPC, health check = the app's
  health path on port 80. A rolling release takes a droplet out of rotation by removing that tag
  (launchpad/ops/roll_do.py); the host tag stays, and with it the droplet's firewalls and its
  place among the database's trusted sources;
  - with `dns_zone` (the domain's DNS is on DigitalOcean): digitalocean.Certificate of type
    `lets_encrypt` for domain + www.<domain> (DigitalOcean obtains and renews it), an HTTPS
    443 -> HTTP 80 rule with it, HTTP 80 -> 80 with `redirect_http_to_https`, and A records
    domain / www -> the balancer (digitalocean.DnsRecord in the zone);
  - without: HTTP 80 -> 80 only (plain HTTP). The other choices, TLS on the droplets or an
    uploaded certificate, are refused by the settings (launchpad/settings/scaling.py): certbot
    on N droplets cannot all answer one HTTP-01 challenge through the balancer, and an uploaded
    key would sit in the stack's config;
- digitalocean.Firewall `{name}-web` on the host tag: 80/443 from this balancer only (by its
  id). The network's own firewall (components/digitalocean/network.py, `balanced`) keeps SSH
  and ICMP and admits no web traffic, so the droplets answer the web only through the balancer.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_digitalocean as digitalocean

from components.digitalocean.network import WEB_PORTS


def record_name(domain: str, zone: str) -> str:
    """`domain` relative to `zone`, as DigitalOcean records name it ('@' for the apex)."""
    if domain == zone:
        return "@"
    return domain[: -len(zone) - 1]


@dataclass
class DoBalancerArgs:
    region: str
    vpc_id: pulumi.Input[str]
    host_tag: pulumi.Input[str]
    """Every droplet of the stack: the web firewall applies to it."""
    health_path: str
    domain: str | None = None
    dns_zone: str | None = None
    """A domain whose DNS DigitalOcean hosts, holding `domain`: turns TLS on at the balancer."""
    rotation_tag: pulumi.Input[str] | None = None
    """The droplets the balancer sends to (each droplet carries it too); None: the host tag."""


class DoBalancer(pulumi.ComponentResource):
    """A DO load balancer over the tagged droplets, and the firewall that admits web traffic from it alone."""

    ip: pulumi.Output[str]
    load_balancer: digitalocean.LoadBalancer
    firewall: digitalocean.Firewall

    def __init__(self, name: str, args: DoBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:balancers:DoBalancer", name, None, opts)
        if args.dns_zone and not args.domain:
            raise ValueError(f"{name}: dns_zone {args.dns_zone!r} without a domain; the certificate is for the domain")
        child = pulumi.ResourceOptions(parent=self)
        tls = bool(args.dns_zone and args.domain)
        rules = [digitalocean.LoadBalancerForwardingRuleArgs(entry_protocol="http", entry_port=80, target_protocol="http", target_port=80)]
        if tls:
            assert args.domain and args.dns_zone
            certificate = digitalocean.Certificate(
                f"{name}-certificate", type="lets_encrypt", domains=[args.domain, f"www.{args.domain}"], opts=child)
            rules.insert(0, digitalocean.LoadBalancerForwardingRuleArgs(
                entry_protocol="https", entry_port=443, target_protocol="http", target_port=80, certificate_name=certificate.name))
        self.load_balancer = digitalocean.LoadBalancer(
            f"{name}-balancer", region=args.region, vpc_uuid=args.vpc_id, droplet_tag=args.rotation_tag or args.host_tag, size_unit=1,
            forwarding_rules=rules, redirect_http_to_https=tls,
            healthcheck=digitalocean.LoadBalancerHealthcheckArgs(
                protocol="http", port=80, path=args.health_path, check_interval_seconds=10, response_timeout_seconds=5,
                healthy_threshold=3, unhealthy_threshold=3),
            http_idle_timeout_seconds=60, opts=child)
        if tls:
            assert args.domain and args.dns_zone
            for i, domain in enumerate((args.domain, f"www.{args.domain}")):
                digitalocean.DnsRecord(f"{name}-record-{i}", domain=args.dns_zone, type="A",
                                       name=record_name(domain, args.dns_zone), value=self.load_balancer.ip, ttl=300, opts=child)
        self.firewall = digitalocean.Firewall(
            f"{name}-web", tags=[args.host_tag],
            inbound_rules=[digitalocean.FirewallInboundRuleArgs(protocol="tcp", port_range=str(port),
                                                                source_load_balancer_uids=[self.load_balancer.id])
                           for port in WEB_PORTS],
            opts=child)
        self.ip = self.load_balancer.ip
        self.register_outputs({"ip": self.ip})
