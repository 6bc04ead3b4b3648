"""The Application Load Balancer in front of the stack's hosts (launchpad:hosts > 1).

Creates:
- aws.lb.LoadBalancer (application, internet-facing) in the balancer's own subnets (one per
  zone, components/aws/network.py), behind the `balancer` security group; invalid header
  fields dropped; client addresses appended to X-Forwarded-For (the hosts' Nginx reads the
  last entry);
- aws.lb.TargetGroup (HTTP 80, instances): its health check asks the app's health path, a
  host leaving it is drained for DEREGISTRATION_DELAY seconds;
- with `dns_zone` (TLS): aws.acm.Certificate for the domain and www.<domain>, validated by
  DNS records in that Route 53 zone (aws.route53.Record + aws.acm.CertificateValidation),
  a 443 listener (TLS 1.2/1.3 policy) forwarding to the hosts, a port-80 listener whose
  default is a 301 to HTTPS (the health path still answers on 80, for readiness, as a single
  TLS host does), and alias records domain / www.<domain> -> the balancer;
- without: a port-80 listener forwarding to the hosts (plain HTTP).

Reads (invoke): aws.route53.getZone (with `dns_zone`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

def _option_for(domain: str) -> Callable[[Sequence[Any]], Any]:
    """Picks `domain`'s DNS validation record out of the certificate's list."""
    def pick(options: Sequence[Any]) -> Any:
        return next(o for o in options if o.domain_name == domain)
    return pick


DEREGISTRATION_DELAY = 30
"""Seconds a leaving host keeps its open requests (Gunicorn's graceful timeout is 30 s)."""
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 and 1.2 with forward-secret suites only: the single host's Nginx offers the same."""


@dataclass
class AwsBalancerArgs:
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The balancer's own subnets, in at least two zones."""
    security_group_id: pulumi.Input[str]
    health_path: str
    """The app's health path; the target group's health check asks it."""
    healthy_codes: str = "200"
    """HTTP codes counted healthy (`200-499` for an app without a health path)."""
    domain: str | None = None
    dns_zone: str | None = None
    """A Route 53 hosted zone holding `domain`: turns TLS on at the balancer."""
    production: bool = False
    """Deletion protection on the balancer."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AwsBalancer(pulumi.ComponentResource):
    """An ALB, its target group (health check = the app's health path) and its listeners."""

    dns_name: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    load_balancer: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listeners: list[aws.lb.Listener]

    def __init__(self, name: str, args: AwsBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:balancers:AwsBalancer", name, None, opts)
        if len(args.subnet_ids) < 2:
            raise ValueError(f"{name}: AwsBalancerArgs.subnet_ids has {len(args.subnet_ids)}; an ALB needs subnets in two zones")
        if args.dns_zone and not args.domain:
            raise ValueError(f"{name}: dns_zone {args.dns_zone!r} without a domain; the certificate is for the domain")
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)

        self.load_balancer = aws.lb.LoadBalancer(
            f"{name}-alb", load_balancer_type="application", internal=False, ip_address_type="ipv4",
            subnets=list(args.subnet_ids), security_groups=[args.security_group_id],
            drop_invalid_header_fields=True, xff_header_processing_mode="append",
            enable_deletion_protection=args.production, idle_timeout=60,
            tags={**tags, "Name": f"{name}-alb"}, opts=child)
        self.target_group = aws.lb.TargetGroup(
            f"{name}-hosts", port=80, protocol="HTTP", target_type="instance", vpc_id=args.vpc_id,
            deregistration_delay=DEREGISTRATION_DELAY,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True, protocol="HTTP", port="traffic-port", path=args.health_path, matcher=args.healthy_codes,
                interval=10, timeout=5, healthy_threshold=2, unhealthy_threshold=2),
            tags={**tags, "Name": f"{name}-hosts"}, opts=child)
        forward = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)]

        self.listeners = []
        if args.dns_zone and args.domain:
            certificate_arn = self._certificate(name, args, child)
            self.listeners.append(aws.lb.Listener(
                f"{name}-https", load_balancer_arn=self.load_balancer.arn, port=443, protocol="HTTPS",
                ssl_policy=TLS_POLICY, certificate_arn=certificate_arn, default_actions=forward, tags=tags, opts=child))
            http = aws.lb.Listener(
                f"{name}-http", load_balancer_arn=self.load_balancer.arn, port=80, protocol="HTTP",
                default_actions=[aws.lb.ListenerDefaultActionArgs(type="redirect", redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                    protocol="HTTPS", port="443", status_code="HTTP_301"))],
                tags=tags, opts=child)
            self.listeners.append(http)
            # As on a single TLS host: the health path also answers on port 80 (readiness polls it there).
            aws.lb.ListenerRule(
                f"{name}-http-health", listener_arn=http.arn, priority=10,
                conditions=[aws.lb.ListenerRuleConditionArgs(path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=[args.health_path]))],
                actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=self.target_group.arn)],
                tags=tags, opts=child)
        else:
            self.listeners.append(aws.lb.Listener(
                f"{name}-http", load_balancer_arn=self.load_balancer.arn, port=80, protocol="HTTP",
                default_actions=forward, tags=tags, opts=child))

        self.dns_name = self.load_balancer.dns_name
        self.target_group_arn = self.target_group.arn
        self.register_outputs({"dns_name": self.dns_name, "target_group_arn": self.target_group_arn})

    def _certificate(self, name: str, args: AwsBalancerArgs, child: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """An ACM certificate for domain + www, validated through the zone; alias records to the balancer."""
        assert args.domain and args.dns_zone
        zone = aws.route53.get_zone_output(name=args.dns_zone, private_zone=False, opts=pulumi.InvokeOptions(parent=self))
        names = [args.domain, f"www.{args.domain}"]
        certificate = aws.acm.Certificate(
            f"{name}-certificate", domain_name=args.domain, subject_alternative_names=names[1:], validation_method="DNS",
            tags=dict(args.tags), opts=pulumi.ResourceOptions(parent=self, replace_on_changes=["domainName"]))
        records = []
        for i, domain in enumerate(names):
            option = certificate.domain_validation_options.apply(_option_for(domain))
            records.append(aws.route53.Record(
                f"{name}-validation-{i}", zone_id=zone.zone_id, name=option.resource_record_name,
                type=option.resource_record_type, records=[option.resource_record_value], ttl=300,
                allow_overwrite=True, opts=child))
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate-validation", certificate_arn=certificate.arn,
            validation_record_fqdns=[r.fqdn for r in records], opts=child)
        for i, domain in enumerate(names):
            aws.route53.Record(
                f"{name}-alias-{i}", zone_id=zone.zone_id, name=domain, type="A",
                aliases=[aws.route53.RecordAliasArgs(name=self.load_balancer.dns_name, zone_id=self.load_balancer.zone_id,
                                                     evaluate_target_health=True)],
                opts=child)
        return validation.certificate_arn
