"""Shared Pulumi mocks (the `run` fixture in tests/conftest.py): run a program in-process and record everything it registers.

`run_program(fn, ...)` sets the mocks and config, runs `fn` as the Pulumi program,
waits for every registration, and returns a `Program` with each resource's type, name,
inputs, the state the mocks answered, and what the SDK sent the engine beside the
inputs (protect, dependencies, delete-before-replace, parent). Options are read from
the real RegisterResource requests, by a monitor that records them before the stock
mock monitor handles them: `Mocks.new_resource` alone never sees options.
Stack outputs (`pulumi.export`) come back resolved, secrets unwrapped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import SETTINGS, get_root_resource, set_root_resource
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

PROJECT = "launchpad"
ACCOUNT = "123456789012"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
INSTANCE_IP = "203.0.113.10"
ELASTIC_IP = "198.51.100.7"
DROPLET_IP = "203.0.113.20"
RESERVED_IP = "198.51.100.20"
LOCAL_IP = "10.213.0.2"
DB_PASSWORD = "mock-db-password-Zq8w"
"""What the mocked DatabaseUser answers as its password: tests look for it where it must not be."""
SECRET_ARN = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:rds!db-mock-AbCdEf"
RDS_ADDRESS = "launchpad-db.abcdefghijkl.eu-west-1.rds.amazonaws.com"
DO_DB_PRIVATE_HOST = "private-launchpad-db-do-user-1-0.b.db.ondigitalocean.com"
DO_DB_PUBLIC_HOST = "launchpad-db-do-user-1-0.b.db.ondigitalocean.com"
DEPLOY_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDeployKeyMockMockMockMockMockMockMockMock"
DEPLOY_PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nmock\n-----END OPENSSH PRIVATE KEY-----\n"
SPACES_ACCESS_KEY = "DO00MOCKSPACESREADKEY"
SPACES_SECRET_KEY = "mock-spaces-secret-Xq7v"
"""What the mocked SpacesKey answers: tests look for it where it must not be (user-data)."""
ENROLL_SPACES_ACCESS_KEY = "DO00ENROLLMOCKKEY123"
ENROLL_SPACES_SECRET_KEY = "q8Yl2nR6vB0xK3mT9wZ4cH7jF1sD5aG8eU2iO6pL0yN"
"""What the enrollment bucket's key answers (components/digitalocean/enroll_bucket.py): it is in user-data,
by design, as real-looking values (a Spaces key id's shape) so the user-data secret policy sees what it would."""
ENROLL_HEX = "e7" * 32
HOST_PRIVATE_KEY = bytes(range(1, 33))
"""A fixed X25519 private key for the mocked droplet; HOST_PUBLIC_KEY is its public half (base64)."""
HOST_PUBLIC_KEY = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw="
SSH_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyMockMockMockMockMockMockMockMockMock"
"""What `python -m launchpad.ops.host_key` answers under mocks: the droplet's verified SSH host key."""
ALB_DNS = "test-alb-1234567890.eu-west-1.elb.amazonaws.com"
BALANCER_IP = "198.51.100.30"
DO_VPC_RANGE = "10.116.0.0/20"
FLEET_HOSTS = [{"id": "i-0aaa", "address": "10.0.0.11", "zone": "eu-west-1a", "health": "Healthy"},
               {"id": "i-0bbb", "address": "10.0.1.12", "zone": "eu-west-1b", "health": "Healthy"}]
"""What the instance refresh waiter (components/aws/refresh_wait.py) reports under mocks."""
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7mockmockmockmockmockmockmockmockmockmock ops@laptop"
ACCOUNT_SSH_KEYS: list[dict[str, Any]] = []
"""What the mocked DigitalOcean account already holds (`get_ssh_keys`): {fingerprint, id, name, publicKey}
each; empty unless a test sets it (monkeypatch.setattr(pulumi_mocks, "ACCOUNT_SSH_KEYS", [...]))."""


def _computed(typ: str, name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs a provider would add on create (camelCase, as the engine speaks)."""
    arn = f"arn:aws:mock:eu-west-1:{ACCOUNT}:{name}"
    table: dict[str, dict[str, Any]] = {
        "aws:ec2/vpc:Vpc": {"ipv6CidrBlock": "2600:1f18:abcd:1200::/56", "arn": arn},
        "aws:ec2/instance:Instance": {"publicIp": INSTANCE_IP, "privateIp": "10.0.0.10", "arn": arn},
        "aws:ec2/eip:Eip": {"publicIp": ELASTIC_IP, "allocationId": f"eipalloc-{name}"},
        "aws:rds/instance:Instance": {
            "address": RDS_ADDRESS, "port": inputs.get("port", 5432), "endpoint": f"{RDS_ADDRESS}:5432",
            "masterUserSecrets": [{"secretArn": SECRET_ARN, "secretStatus": "active", "kmsKeyId": "alias/aws/secretsmanager"}],
        },
        "aws:rds/subnetGroup:SubnetGroup": {"name": f"{name}-sng"},
        "aws:iam/role:Role": {"arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "name": f"{name}-r"},
        "aws:iam/policy:Policy": {"arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}"},
        "aws:ec2transitgateway/instanceConnectEndpoint:InstanceConnectEndpoint": {
            "arn": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance-connect-endpoint/eice-{name}"},
        "aws:iam/instanceProfile:InstanceProfile": {"arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/{name}", "name": f"{name}-p"},
        "digitalocean:index/droplet:Droplet": {"ipv4Address": DROPLET_IP, "ipv4AddressPrivate": "10.10.0.2"},
        "digitalocean:index/reservedIp:ReservedIp": {"ipAddress": RESERVED_IP},
        "digitalocean:index/tag:Tag": {"name": inputs.get("name", name)},
        "digitalocean:index/sshKey:SshKey": {"fingerprint": f"fp:{name}"},
        "digitalocean:index/databaseCluster:DatabaseCluster": {
            "host": DO_DB_PUBLIC_HOST, "privateHost": DO_DB_PRIVATE_HOST, "port": 25060, "user": "doadmin",
            "password": "mock-admin-password", "uri": f"postgresql://doadmin:mock-admin-password@{DO_DB_PUBLIC_HOST}:25060/defaultdb",
        },
        "digitalocean:index/databaseUser:DatabaseUser": {"password": DB_PASSWORD},
        "tls:index/privateKey:PrivateKey": {"publicKeyOpenssh": DEPLOY_PUBLIC_KEY + "\n", "privateKeyOpenssh": DEPLOY_PRIVATE_KEY},
        # `launchpad local up --json` (components/local_host.py) answers the machine's status; launchpad.wait, a line.
        "command:local:Command": {"stdout": _local_command_stdout(str(inputs.get("create"))), "stderr": ""},
        "command:remote:Command": {"stdout": "", "stderr": ""},
        "random:index/randomPassword:RandomPassword": {"result": DB_PASSWORD},
        # Release stores (components/aws/release_store.py, components/digitalocean/release_store.py).
        "aws:s3/bucket:Bucket": {"bucket": f"{name}-a1b2c3d", "arn": f"arn:aws:s3:::{name}-a1b2c3d"},
        "aws:secretsmanager/secret:Secret": {"arn": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:{name}-AbCdEf"},
        "digitalocean:index/spacesBucket:SpacesBucket": {"name": inputs.get("name", f"{name}-a1b2c3d")},
        "digitalocean:index/spacesKey:SpacesKey": {"accessKey": SPACES_ACCESS_KEY, "secretKey": SPACES_SECRET_KEY},
        "random:index/randomId:RandomId": {"hex": ENROLL_HEX, "b64Std": "mock", "b64Url": "mock", "dec": "1"},
        # More than one host (components/aws/balancer.py, fleet.py; components/digitalocean/balancer.py).
        "aws:lb/loadBalancer:LoadBalancer": {"dnsName": ALB_DNS, "zoneId": "Z32O12XQLNTSW2", "arn": arn, "arnSuffix": f"app/{name}/1"},
        "aws:lb/targetGroup:TargetGroup": {"arn": f"{arn}-tg", "arnSuffix": f"targetgroup/{name}/1"},
        "aws:lb/listener:Listener": {"arn": f"{arn}-listener"},
        "aws:ec2/launchTemplate:LaunchTemplate": {"latestVersion": 1, "arn": arn},
        "aws:autoscaling/group:Group": {"name": inputs.get("name", f"{name}-asg"), "arn": arn},
        "aws:acm/certificate:Certificate": {"arn": f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/{name}", "domainValidationOptions": [
            {"domainName": d, "resourceRecordName": f"_x.{d}.", "resourceRecordType": "CNAME", "resourceRecordValue": f"_y.{d}.acm-validations.aws."}
            for d in [inputs.get("domainName"), *(inputs.get("subjectAlternativeNames") or [])]]},
        "aws:route53/record:Record": {"fqdn": str(inputs.get("name", name)).rstrip(".")},
        "aws:acm/certificateValidation:CertificateValidation": {"certificateArn": inputs.get("certificateArn")},
        "digitalocean:index/loadBalancer:LoadBalancer": {"ip": BALANCER_IP, "urn": f"do:loadbalancer:{name}"},
        "digitalocean:index/vpc:Vpc": {"ipRange": DO_VPC_RANGE, "urn": f"do:vpc:{name}"},
        "digitalocean:index/certificate:Certificate": {"uuid": f"{name}-uuid", "name": inputs.get("name", name)},
    }
    return table.get(typ, {})


def _local_command_stdout(create: str) -> str:
    """`launchpad local up --json` answers the machine's status; the release stamp a time; enrollment
    the droplet's public key; launchpad.wait and the rest a line."""
    if "--json" in create:
        return json.dumps({"address": LOCAL_IP, "database_address": None})
    if create.startswith("date -u"):
        return "2026-01-02T03:04:05Z\n"
    if "components.aws.refresh_wait" in create:
        return json.dumps(FLEET_HOSTS)
    if "launchpad.release.enroll" in create:
        return HOST_PUBLIC_KEY + "\n"
    if "launchpad.ops.host_key" in create:
        return SSH_HOST_KEY + "\n"
    return "healthy"


class LaunchpadMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        resource_id = f"{args.name}-id"
        if args.typ == "digitalocean:index/droplet:Droplet":
            resource_id = str(4242 + len(args.name))  # droplet ids are integers
        computed = _computed(args.typ, args.name, args.inputs)
        if args.typ == "digitalocean:index/spacesKey:SpacesKey" and args.name.endswith("-enroll-write"):
            computed = {"accessKey": ENROLL_SPACES_ACCESS_KEY, "secretKey": ENROLL_SPACES_SECRET_KEY}
        return resource_id, {**args.inputs, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == "aws:ec2/getAmi:getAmi":
            arch = next((f["values"][0] for f in args.args.get("filters", []) if f["name"] == "architecture"), "x86_64")
            return {"id": f"ami-debian12-{arch}", "architecture": arch, "name": f"debian-12-{arch}-20250101-1"}, []
        if args.token == "aws:route53/getZone:getZone":
            return {"zoneId": "Z0MOCKZONE", "name": args.args.get("name"), "id": "Z0MOCKZONE"}, []
        if args.token == "digitalocean:index/getSshKeys:getSshKeys":
            return {"sshKeys": [dict(k) for k in ACCOUNT_SSH_KEYS], "id": "ssh-keys"}, []
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": ZONES, "zoneIds": ["euw1-az1", "euw1-az2", "euw1-az3"], "id": "eu-west-1"}, []
        raise NotImplementedError(f"no mock for invoke {args.token}")


@dataclass
class Resource:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    protect: bool
    delete_before_replace: bool
    dependencies: set[str]
    """URNs the SDK told the engine this resource depends on (explicit and via its inputs)."""
    id: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    secret_inputs: set[str] = field(default_factory=set)
    """Top-level inputs the SDK sent as secrets (wholly or in part)."""


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _has_secret(value: Any) -> bool:
    if _is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_has_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_secret(v) for v in value)
    return False


def _unwrap(value: Any) -> Any:
    """Inputs as plain values: secrets arrive wrapped in the wire format's secret marker."""
    if _is_secret(value):
        return _unwrap(value["value"])
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The stock mock monitor, plus a record of each registration request."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.requests: list[Resource] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            deps = set(request.dependencies)
            for property_deps in request.propertyDependencies.values():
                deps.update(property_deps.urns)
            registered = self.resources.get(response.urn)
            self.requests.append(Resource(
                type=request.type, name=request.name, urn=response.urn, parent=request.parent, custom=request.custom,
                inputs=_unwrap(rpc.deserialize_properties(request.object)), protect=bool(request.protect),
                delete_before_replace=bool(request.deleteBeforeReplace), dependencies=deps,
                id=registered.id if registered else None, state=dict(registered.state) if registered else {},
                secret_inputs={k for k, v in rpc.deserialize_properties(request.object).items() if _has_secret(v)}))
        return response


@dataclass
class Program:
    resources: list[Resource]
    outputs: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]]

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str) -> Resource:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, got {[r.name for r in found]}"
        return found[0]

    def by_urn(self, urn: str) -> Resource:
        return next(r for r in self.resources if r.urn == urn)

    def depends_on(self, resource: Resource, target: Resource) -> bool:
        """Directly or through other resources, as the engine orders them."""
        seen: set[str] = set()
        todo = list(resource.dependencies)
        while todo:
            urn = todo.pop()
            if urn == target.urn:
                return True
            if urn in seen:
                continue
            seen.add(urn)
            todo.extend(self.by_urn(urn).dependencies if any(r.urn == urn for r in self.resources) else ())
        return False

    def tagged(self) -> list[Resource]:
        return [r for r in self.resources if r.custom and "tags" in r.inputs]


def config_strings(config: Mapping[str, Any]) -> dict[str, str]:
    """Stack file values the way Pulumi hands them to a program: strings, structured ones as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def run_program(program: Callable[[], None], stack: str = "test", config: Mapping[str, Any] | None = None,
                secret_keys: list[str] | None = None, record: list[Resource] | None = None) -> Program:
    """Runs `program` under mocks with the given stack config; raises what the program raises.

    `record`, if given, receives every registered resource, also when the program fails.
    """
    mocks = LaunchpadMocks()
    monitor = RecordingMonitor(mocks)
    if record is not None:
        monitor.requests = record
    set_root_resource(None)  # a fresh Stack per run, so exports do not carry over
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(config_strings(config or {}), secret_keys or [])
    # As pulumi.runtime.test does: a failed run must not leave its exception to the next one.
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    try:
        _sync_await(run_pulumi_func(program))
        root = get_root_resource()
        exported = dict(getattr(root, "outputs", {}))

        async def resolve() -> dict[str, Any]:
            return {k: await pulumi.Output.from_input(v).future() for k, v in exported.items()}

        outputs = _sync_await(resolve())
    finally:
        pulumi.runtime.set_all_config({}, [])
    return Program(monitor.requests, outputs, mocks.calls)
