"""The AWS stack: a VPC, an EC2 host behind an Elastic IP, optionally RDS PostgreSQL.

Order of a deploy: network, release store -> (database) -> host role -> host -> readiness -> Elastic IP.
The app ships as a release (components/aws/release_store.py): artifact, manifest and agent in
the stack's private S3 bucket, `app.secrets` in Secrets Manager; the host's role reads only its
stack's prefix and that secret, and user-data only names them. An app change rolls a release
on the running host; readiness waits for its id.
With `hosts` > 1 (or `autoscale`) the same cloud-config goes to an Auto Scaling group behind
an Application Load Balancer instead (stacks/aws_balanced.py); the balancer is the address.
The database passwords never leave AWS: RDS keeps the master's in Secrets Manager (and rotates
it), the stack keeps the app role's there too; the host's agent reads both through its instance
role whenever it needs them, makes the app's own role with the master and hands the app that
role's URL, and rolls the live release again when the app password changes (roles.py in the
agent). User-data only names the secrets' ARNs and the endpoint.
"""

from __future__ import annotations

import pulumi

from components.aws.access import AwsAccess, AwsAccessArgs
from components.aws.host_role import AwsHostRole, AwsHostRoleArgs
from components.aws.network import AwsNetwork, AwsNetworkArgs
from components.aws.public_address import AwsPublicAddress, AwsPublicAddressArgs
from components.aws.release_store import AwsReleaseStore, AwsReleaseStoreArgs
from launchpad.render import database_agent
from launchpad.render.bootstrap import render_user_data
from components.aws.ec2_host import Ec2Host, Ec2Placement
from components.host import HostArgs
from components.aws.rds_database import RdsDatabase, RdsDatabaseArgs
from components.readiness import Readiness, ReadinessArgs
from launchpad.settings import Settings
from stacks import common, host_tls, releases


def final_snapshot_identifier(settings: Settings) -> str:
    # RDS identifiers: letters, digits and single hyphens, starting with a letter.
    return f"{pulumi.get_project()}-{settings.stack}-final".lower().replace("_", "-")


def build(settings: Settings) -> None:
    from stacks.aws_provider import provider as stack_provider

    # Launchpad's `region` decides; every other `aws:*` key of the stack (assumeRoles,
    # allowedAccountIds, defaultTags, profile, ...) reaches the provider: stacks/aws_provider.py.
    provider = stack_provider(settings)
    opts = pulumi.ResourceOptions(providers={"aws": provider})
    tags = common.aws_tags(settings)
    name = settings.stack

    network = AwsNetwork(name, AwsNetworkArgs(admin_cidrs=settings.admin_cidrs, tags=tags, balanced=settings.balanced), opts=opts)
    # Day-2 access (launchpad ssh/run/logs): EC2 Instance Connect Endpoint, SSH only from it.
    access = AwsAccess(name, AwsAccessArgs(vpc_id=network.vpc_id, subnet_id=network.public_subnet_id,
                                           stack=settings.stack, tags=tags), opts=opts)

    release = releases.build(settings)
    store = AwsReleaseStore(name, AwsReleaseStoreArgs(
        stack=settings.stack, artifact=release.artifact, manifest=release.manifest,
        secrets=pulumi.Output.secret(dict(release.secrets)), tags=tags, rolled=settings.balanced), opts=opts)
    # Reading the agent's key makes the host wait for the agent object it fetches at boot.
    agent = pulumi.Output.all(store.bucket_name, store.secret_arn, store.agent_key).apply(
        lambda v: releases.aws_agent(settings, v[0], v[1]))
    # HTTPS across host replacements: the stack's certificate secret (stacks/host_tls.py).
    agent, certificates = host_tls.aws_store(settings, agent, tags, opts)
    secret_arns: list[pulumi.Input[str]] = [store.secret_arn]
    releases.export_store(pulumi.Output.concat("s3://", store.bucket_name, f"/{settings.stack}"), settings.resolved_region)

    database_host: pulumi.Output[str] | None = None
    if settings.database.enabled:
        db = settings.database
        database = RdsDatabase(name, RdsDatabaseArgs(
            vpc_id=network.vpc_id, subnet_ids=network.private_subnet_ids,
            client_security_group_id=network.web_security_group_id,
            version=db.version, instance_class=settings.database_size, storage_gb=db.storage_gb,
            backup_retention_days=db.backup_retention_days, name=db.name, production=settings.production,
            final_snapshot_identifier=final_snapshot_identifier(settings), tags=tags), opts=opts)
        secret_arns += [database.secret_arn, database.app_secret_arn]
        database_host = database.address
        region = settings.resolved_region
        user_data = pulumi.Output.all(database.address, database.port, database.secret_arn, database.app_secret_arn,
                                      agent).apply(
            lambda v: render_user_data(settings, {**v[4], "database": database_agent.aws(
                master_arn=v[2], app_arn=v[3], region=region, host=v[0], port=int(v[1]), database=db.name)}))
    else:
        user_data = agent.apply(lambda a: render_user_data(settings, a))
    role = AwsHostRole(name, AwsHostRoleArgs(secret_arns=secret_arns, object_arns=[store.object_arn],
                                             status_arns=[store.status_arn] if settings.balanced else [], tags=tags), opts=opts)
    instance_profile: pulumi.Output[str] | None = role.instance_profile_name
    user_data = host_tls.aws_access(settings, certificates, role.role.name, user_data, opts)

    if settings.balanced:
        from stacks import aws_balanced

        front, hosts, record = aws_balanced.serve(settings, network, access, user_data, instance_profile, tags, opts, store)
        common.export_outputs(settings, front, database_host, access=record, operator_policy_arn=access.operator_policy_arn,
                              hosts=hosts)
        return

    host = Ec2Host(name, HostArgs(
        size=settings.resolved_size, user_data=user_data,
        placement=Ec2Placement(subnet_id=network.public_subnet_id, security_group_id=network.web_security_group_id,
                               extra_security_group_ids=[access.host_security_group_id],
                               instance_profile=instance_profile, tags=tags)), opts=opts)

    console = pulumi.Output.concat(
        "aws ec2 get-console-output --latest --output text --region ", settings.resolved_region, " --instance-id ", host.id)
    readiness = Readiness(name, ReadinessArgs(
        address=host.public_ip, host_id=host.id, domain=settings.domain,
        release_id=release.manifest.id, health_path=settings.app.health_path, **host_tls.readiness(settings),
        logs=pulumi.Output.all(host.public_ip, console).apply(lambda v: common.logs_hint(settings, v[0], v[1])),
        after=[host, *([store.pointer] if store.pointer else [])]))

    address = AwsPublicAddress(name, AwsPublicAddressArgs(host_id=host.id, after=[readiness], tags=tags), opts=opts)
    host_tls.aws_dns(settings, address.ip, opts)
    common.export_outputs(settings, address.ip, database_host,
                          access=access.access_output(settings.resolved_region, [("web", host.id, host.instance.private_ip)]),
                          operator_policy_arn=access.operator_policy_arn)
