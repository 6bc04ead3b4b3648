"""components/digitalocean/public_address.py: the reserved IP moves only after what it waits for."""

from __future__ import annotations

import pulumi

from components.digitalocean.public_address import DoPublicAddress, DoPublicAddressArgs


def test_assignment_waits_for_the_gate_and_names_the_droplet(run) -> None:
    def program() -> None:
        gate = pulumi.CustomResource("test:index:Gate", "gate", {})
        DoPublicAddress("web", DoPublicAddressArgs(host_id="4242", region="fra1", after=[gate]))
    result = run(program)
    assignment = result.one("digitalocean:index/reservedIpAssignment:ReservedIpAssignment")
    assert result.depends_on(assignment, result.one("test:index:Gate"))
    assert assignment.inputs["dropletId"] == 4242
    assert assignment.inputs["ipAddress"] == result.one("digitalocean:index/reservedIp:ReservedIp").state["ipAddress"]
    assert not assignment.delete_before_replace
    assert result.one("digitalocean:index/reservedIp:ReservedIp").inputs["region"] == "fra1"
