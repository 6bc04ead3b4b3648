"""components/aws/ec2_host.py: the instance's hardening, user-data encoding and AMI choice."""

from __future__ import annotations

import base64
import gzip

import pytest

from components.aws.ec2_host import DEBIAN_OWNER, Ec2Host, Ec2Placement, architecture
from components.host import HostArgs

USER_DATA = "#cloud-config\npackages: [nginx]\n"


def _host(run, size="t3.small", profile=None):
    return run(lambda: Ec2Host("web", HostArgs(size=size, user_data=USER_DATA, placement=Ec2Placement(
        subnet_id="subnet-1", security_group_id="sg-web", instance_profile=profile, tags={"launchpad:stack": "t"}))))


def test_imdsv2_required_and_root_volume_encrypted(run) -> None:
    inputs = _host(run).one("aws:ec2/instance:Instance").inputs
    assert inputs["metadataOptions"]["httpTokens"] == "required"
    assert inputs["metadataOptions"]["httpPutResponseHopLimit"] == 1
    assert inputs["rootBlockDevice"]["encrypted"] is True


def test_user_data_is_gzip_base64_and_replaces_the_host_on_change(run) -> None:
    inputs = _host(run).one("aws:ec2/instance:Instance").inputs
    assert gzip.decompress(base64.b64decode(inputs["userDataBase64"])).decode() == USER_DATA
    assert inputs["userDataReplaceOnChange"] is True
    assert "userData" not in inputs


def test_placement_and_own_public_address(run) -> None:
    program = _host(run, profile="web-profile")
    instance = program.one("aws:ec2/instance:Instance")
    assert instance.inputs["subnetId"] == "subnet-1"
    assert instance.inputs["vpcSecurityGroupIds"] == ["sg-web"]
    assert instance.inputs["iamInstanceProfile"] == "web-profile"
    assert instance.inputs["associatePublicIpAddress"] is True
    assert instance.inputs["tags"]["launchpad:stack"] == "t"


def test_no_profile_means_no_aws_identity(run) -> None:
    assert "iamInstanceProfile" not in _host(run).one("aws:ec2/instance:Instance").inputs


@pytest.mark.parametrize("size, arch", [("t4g.small", "arm64"), ("m7g.large", "arm64"), ("c6gn.xlarge", "arm64"),
                                        ("a1.medium", "arm64"), ("im4gn.large", "arm64"), ("t3.small", "x86_64"),
                                        ("m7i-flex.large", "x86_64"), ("g4dn.xlarge", "x86_64"), ("c5.2xlarge", "x86_64")])
def test_architecture(size: str, arch: str) -> None:
    assert architecture(size) == arch


@pytest.mark.parametrize("size, arch, pattern", [("t4g.small", "arm64", "debian-12-arm64-*"), ("t3.small", "x86_64", "debian-12-amd64-*")])
def test_ami_is_debians_own_for_the_architecture(run, size: str, arch: str, pattern: str) -> None:
    program = _host(run, size=size)
    [(_, args)] = [c for c in program.calls if c[0] == "aws:ec2/getAmi:getAmi"]
    assert args["owners"] == [DEBIAN_OWNER]
    assert args["mostRecent"] is True
    filters = {f["name"]: f["values"] for f in args["filters"]}
    assert filters["architecture"] == [arch] and filters["name"] == [pattern]
    assert program.one("aws:ec2/instance:Instance").inputs["ami"] == f"ami-debian12-{arch}"
