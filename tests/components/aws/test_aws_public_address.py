"""components/aws/public_address.py: the Elastic IP moves only after what it waits for."""

from __future__ import annotations

import pulumi

from components.aws.public_address import AwsPublicAddress, AwsPublicAddressArgs


def test_association_waits_for_the_gate_and_names_the_host(run) -> None:
    def program() -> None:
        gate = pulumi.CustomResource("test:index:Gate", "gate", {})
        AwsPublicAddress("web", AwsPublicAddressArgs(host_id="i-123", after=[gate]))
    result = run(program)
    assoc = result.one("aws:ec2/eipAssociation:EipAssociation")
    assert result.depends_on(assoc, result.one("test:index:Gate"))
    assert assoc.inputs["instanceId"] == "i-123"
    assert assoc.inputs["allocationId"] == result.one("aws:ec2/eip:Eip").state["allocationId"]
    assert not assoc.delete_before_replace
    assert result.one("aws:ec2/eip:Eip").inputs["domain"] == "vpc"
