"""Day-2 access to the AWS host: an EC2 Instance Connect Endpoint, nothing open to the world.

Creates:
- aws.ec2transitgateway.InstanceConnectEndpoint in the stack's public subnet, with client
  IP preservation off, so every SSH connection reaching the host comes from the
  endpoint's own network interface;
- two security groups without inline rules: the endpoint's (may only open TCP 22 to the
  host's access group) and the host's access group (admits TCP 22 only from the
  endpoint's group), joined by one egress and one ingress rule;
- aws.iam.Policy `operator`: what a person or CI role needs for `launchpad status/logs/
  run/ssh/...` on this stack and nothing else: OpenTunnel through this endpoint to port
  22, SendSSHPublicKey for the admin user and GetConsoleOutput (the pinned host key) on
  instances tagged with this stack. Attach it to the operators' role or group.

The CLI side is launchpad/ops/targets.py (AwsTarget); the host side (the AuthorizedKeysCommand
for the 60-second keys, the host key on the console) is launchpad/render/access.py.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from launchpad.ops import access as access_record

SSH_PORT = 22
MAX_TUNNEL_S = 3600


def operator_policy(endpoint_arn: str, stack: str, admin_user: str) -> str:
    """Least privilege for one stack's operators (IAM JSON)."""
    tagged = {"StringEquals": {"aws:ResourceTag/launchpad:stack": stack}}
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Tunnel", "Effect": "Allow", "Action": "ec2-instance-connect:OpenTunnel", "Resource": endpoint_arn,
             "Condition": {"NumericEquals": {"ec2-instance-connect:remotePort": SSH_PORT},
                           "NumericLessThanEquals": {"ec2-instance-connect:maxTunnelDuration": MAX_TUNNEL_S}}},
            {"Sid": "Key", "Effect": "Allow", "Action": "ec2-instance-connect:SendSSHPublicKey",
             "Resource": "arn:aws:ec2:*:*:instance/*",
             "Condition": {"StringEquals": {**tagged["StringEquals"], "ec2:osuser": admin_user}}},
            {"Sid": "HostKey", "Effect": "Allow", "Action": "ec2:GetConsoleOutput",
             "Resource": "arn:aws:ec2:*:*:instance/*", "Condition": tagged},
            {"Sid": "Find", "Effect": "Allow",
             "Action": ["ec2:DescribeInstances", "ec2:DescribeInstanceConnectEndpoints"], "Resource": "*"},
        ],
    }, indent=2)


@dataclass
class AwsAccessArgs:
    vpc_id: pulumi.Input[str]
    subnet_id: pulumi.Input[str]
    """Where the endpoint lives: a subnet of the host's VPC (the host's own public subnet)."""
    stack: str
    """The `launchpad:stack` tag value the operator policy is limited to."""
    admin_user: str = "ops"
    tags: Mapping[str, str] = field(default_factory=dict)


class AwsAccess(pulumi.ComponentResource):
    """EC2 Instance Connect Endpoint + SSH-only-from-the-endpoint group + the operators' IAM policy."""

    endpoint_id: pulumi.Output[str]
    host_security_group_id: pulumi.Output[str]
    """Attach to the instance (beside its web group): SSH from the endpoint only."""
    operator_policy_arn: pulumi.Output[str]
    endpoint: aws.ec2transitgateway.InstanceConnectEndpoint

    def __init__(self, name: str, args: AwsAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:access:AwsAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if not args.stack:
            raise ValueError(f"{name}: AwsAccessArgs.stack is empty; the operator policy is scoped by the stack tag")
        tags = dict(args.tags)
        eice_sg = aws.ec2.SecurityGroup(
            f"{name}-eice", vpc_id=args.vpc_id, description="Launchpad EC2 Instance Connect Endpoint: SSH to the host only",
            tags={**tags, "Name": f"{name}-eice"}, opts=child)
        host_sg = aws.ec2.SecurityGroup(
            f"{name}-ssh", vpc_id=args.vpc_id, description="Launchpad host: SSH only from the Instance Connect Endpoint",
            tags={**tags, "Name": f"{name}-ssh"}, opts=child)
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-eice-to-host", security_group_id=eice_sg.id, referenced_security_group_id=host_sg.id,
            ip_protocol="tcp", from_port=SSH_PORT, to_port=SSH_PORT, description="SSH to the host", opts=child)
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-host-from-eice", security_group_id=host_sg.id, referenced_security_group_id=eice_sg.id,
            ip_protocol="tcp", from_port=SSH_PORT, to_port=SSH_PORT, description="SSH from the Instance Connect Endpoint",
            opts=child)
        self.endpoint = aws.ec2transitgateway.InstanceConnectEndpoint(
            f"{name}-eice", subnet_id=args.subnet_id, security_group_ids=[eice_sg.id],
            # Off: the host sees the endpoint's address, so admitting the endpoint's group is enough
            # (with it on, the host's group would have to admit every operator's own address).
            preserve_client_ip=False, tags={**tags, "Name": f"{name}-eice"}, opts=child)
        policy = aws.iam.Policy(
            f"{name}-operator", description=f"Launchpad: day-2 operations on stack {args.stack} (launchpad ssh/run/logs)",
            policy=self.endpoint.arn.apply(lambda arn: operator_policy(arn, args.stack, args.admin_user)),
            tags=tags, opts=child)
        self.endpoint_id = self.endpoint.id
        self.host_security_group_id = host_sg.id
        self.operator_policy_arn = policy.arn
        self.admin_user = args.admin_user
        self.register_outputs({"endpoint_id": self.endpoint_id, "host_security_group_id": self.host_security_group_id,
                               "operator_policy_arn": self.operator_policy_arn})

    def access_output(self, region: str, hosts: list[tuple[str, pulumi.Input[str], pulumi.Input[str]]]) -> pulumi.Output[dict]:
        """The stack's `access` output (launchpad/ops/access.py): hosts as (name, instance id, private address)."""
        flat = [value for _, instance_id, address in hosts for value in (instance_id, address)]
        names = [name for name, _, _ in hosts]
        return pulumi.Output.all(*flat).apply(lambda v: access_record.eice(
            self.admin_user, region, [(n, str(v[2 * i]), str(v[2 * i + 1])) for i, n in enumerate(names)]))
