"""The app's PostgreSQL on DigitalOcean: a Managed PostgreSQL cluster in the host's VPC.

Creates:
- digitalocean.DatabaseCluster (engine pg, one node) on the VPC's private network;
  DigitalOcean encrypts it at rest and keeps daily backups for 7 days;
- digitalocean.DatabaseFirewall trusting only the droplets carrying the stack's host
  tag (during a host replacement that is the old and the new droplet, so the new one
  can pass its health check while the old one keeps serving);
- digitalocean.DatabaseDb and digitalocean.DatabaseUser for the app. The user's
  generated password stays in Pulumi state as a secret, never in user-data.
On PostgreSQL 15+ a user made through the API may connect but not CREATE in schema
`public` (the database belongs to the cluster's admin, `doadmin`). So `sealed_payload`
holds the app's URL and the admin's, for DoDatabaseDelivery to seal to the droplet: the
host's agent grants the app's user CREATE with the admin URL and proves the app's user
can write before any release runs (files/agent/launchpad_agent/database.py).
Production: the cluster and the database are `protect`ed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_digitalocean as digitalocean

from launchpad.database_url import database_url


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
    sealed_payload: pulumi.Output[dict[str, str]]
    """A Pulumi secret: {"url": the app's DATABASE_URL, "admin_url": the cluster admin's URL of the
    same database, "user", "database"}, both over the private network with sslmode=require."""
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
        self.sealed_payload = pulumi.Output.secret(pulumi.Output.all(
            user.name, user.password, self.cluster.user, self.cluster.password, self.cluster.private_host,
            self.cluster.port, db.name).apply(lambda v: {
                "url": database_url(v[0], v[1], v[4], v[5], v[6], sslmode="require"),
                "admin_url": database_url(v[2], v[3], v[4], v[5], v[6], sslmode="require"),
                "user": v[0], "database": v[6]}))
        self.register_outputs({"private_host": self.private_host, "port": self.port,
                               "database": self.database, "user": self.user})
