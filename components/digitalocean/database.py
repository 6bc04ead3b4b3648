"""The app's PostgreSQL on DigitalOcean: a Managed PostgreSQL cluster in the host's VPC.

Creates:
- digitalocean.DatabaseCluster (engine pg, one node) on the VPC's private network;
  DigitalOcean encrypts it at rest and keeps daily backups for 7 days;
- digitalocean.DatabaseFirewall trusting only the droplets carrying the stack's host
  tag (during a host replacement that is the old and the new droplet, so the new one
  can pass its health check while the old one keeps serving);
- digitalocean.DatabaseDb and digitalocean.DatabaseUser for the app. The user's
  generated password stays in Pulumi state as a secret; the stack delivers it to the
  host over SSH, never through user-data.
Production: the cluster and the database are `protect`ed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_digitalocean as digitalocean


@dataclass
class DoDatabaseArgs:
    region: str
    vpc_id: pulumi.Input[str]
    client_tag: pulumi.Input[str]
    """The only tag the database firewall trusts: the stack's host tag."""
    version: str
    size: str
    name: str
    """Database and user name."""
    production: bool = False
    tags: Sequence[str] = field(default_factory=list)


class DoDatabase(pulumi.ComponentResource):
    """DO Managed PostgreSQL on the private network, reachable only from the stack's droplet."""

    private_host: pulumi.Output[str]
    port: pulumi.Output[int]
    database: pulumi.Output[str]
    user: pulumi.Output[str]
    password: pulumi.Output[str]
    """A Pulumi secret."""
    cluster: digitalocean.DatabaseCluster

    def __init__(self, name: str, args: DoDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:databases:DoDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.production)
        self.cluster = digitalocean.DatabaseCluster(
            f"{name}-postgres", engine="pg", version=args.version, size=args.size, region=args.region,
            node_count=1, private_network_uuid=args.vpc_id, tags=list(args.tags), opts=kept)
        digitalocean.DatabaseFirewall(
            f"{name}-db-firewall", cluster_id=self.cluster.id,
            rules=[digitalocean.DatabaseFirewallRuleArgs(type="tag", value=args.client_tag)], opts=child)
        db = digitalocean.DatabaseDb(f"{name}-db", cluster_id=self.cluster.id, name=args.name, opts=kept)
        user = digitalocean.DatabaseUser(f"{name}-user", cluster_id=self.cluster.id, name=args.name, opts=child)

        self.private_host = self.cluster.private_host
        self.port = self.cluster.port
        self.database = db.name
        self.user = user.name
        self.password = pulumi.Output.secret(user.password)
        self.register_outputs({"private_host": self.private_host, "port": self.port,
                               "database": self.database, "user": self.user})
