"""components/host.py: EC2 and droplet hosts have one public shape."""

from __future__ import annotations

import inspect
import typing

import pulumi

from components.digitalocean.droplet_host import DropletHost, DropletPlacement
from components.aws.ec2_host import Ec2Host, Ec2Placement
from components.host import HostArgs


def test_both_hosts_take_host_args() -> None:
    for host, placement in ((Ec2Host, Ec2Placement), (DropletHost, DropletPlacement)):
        hint = typing.get_type_hints(host.__init__)["args"]
        assert typing.get_origin(hint) is HostArgs
        assert typing.get_args(hint) == (placement,)
    assert list(inspect.signature(Ec2Host.__init__).parameters) == list(inspect.signature(DropletHost.__init__).parameters)


def test_both_hosts_expose_id_and_their_own_public_ip(run) -> None:
    seen: dict[str, dict[str, str]] = {}

    def program() -> None:
        hosts = {
            "ec2": Ec2Host("a", HostArgs(size="t3.small", user_data="#cloud-config\n",
                                         placement=Ec2Placement(subnet_id="s", security_group_id="sg"))),
            "droplet": DropletHost("b", HostArgs(size="s-1vcpu-1gb", user_data="#cloud-config\n",
                                                 placement=DropletPlacement(region="fra1", vpc_id="v", tags=["t"]))),
        }
        for key, host in hosts.items():
            pulumi.Output.all(host.id, host.public_ip).apply(lambda v, key=key: seen.__setitem__(key, {"id": v[0], "ip": v[1]}))
        assert isinstance(hosts["ec2"].instance, pulumi.CustomResource)
        assert isinstance(hosts["droplet"].droplet, pulumi.CustomResource)
    program_result = run(program)
    assert seen["ec2"] == {"id": program_result.one("aws:ec2/instance:Instance").id, "ip": "203.0.113.10"}
    assert seen["droplet"] == {"id": program_result.one("digitalocean:index/droplet:Droplet").id, "ip": "203.0.113.20"}
    public = {name for name in Ec2Host.__annotations__} & {name for name in DropletHost.__annotations__}
    assert {"id", "public_ip"} <= public
