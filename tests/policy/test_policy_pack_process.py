"""The pack as the Pulumi CLI runs it: `python -m pulumi.policy ENGINE policy/`, spoken to over gRPC on loopback.

This covers what check_resources cannot: policy/__main__.py starts, the engine's wire format
(protobuf Struct, camelCase, floats) reaches the policies, and `--policy-pack-config` reaches them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from google.protobuf import empty_pb2, struct_pb2  # type: ignore[import-untyped]
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

POLICY_DIR = Path(__file__).resolve().parents[2] / "policy"



def _struct(props: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    # The engine address is only used for logging; nothing listens there and nothing is sent.
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "pulumi.policy", "127.0.0.1:1", str(POLICY_DIR)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            process.kill()
            raise AssertionError(f"policy pack did not print its port: {port!r} {process.communicate()[1]}")
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_pack_announces_every_policy_as_mandatory(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "launchpad"
    names = [p.name for p in info.policies]
    assert "ec2-imdsv2-required" in names and "droplet-behind-firewall" in names
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}
    production = next(p for p in info.policies if p.name == "rds-production-protection")
    assert "production" in production.configSchema.properties


def _analyze(analyzer: analyzer_pb2_grpc.AnalyzerStub, type_: str, name: str,
             props: dict[str, Any]) -> list[tuple[str, str]]:
    response = analyzer.Analyze(analyzer_pb2.AnalyzeRequest(
        type=type_, properties=_struct(props), urn=f"urn:pulumi:dev::launchpad::{type_}::{name}", name=name))
    return [(d.policyName, d.message) for d in response.diagnostics]


def test_resource_policies_fire_over_the_wire(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    diagnostics = _analyze(analyzer, "aws:ec2/instance:Instance", "web", {
        "metadataOptions": {"httpTokens": "optional"},
        "rootBlockDevice": {"encrypted": True},
        "userData": "#!/bin/sh\nexport PGPASSWORD=hunter2\n",
    })
    assert [name for name, _ in diagnostics] == ["ec2-imdsv2-required", "no-secrets-in-user-data"]
    assert "metadataOptions.httpTokens is 'optional'" in diagnostics[0][1]


def test_production_config_reaches_the_policy(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    unprotected = {"publiclyAccessible": False, "storageEncrypted": True, "backupRetentionPeriod": 7,
                   "skipFinalSnapshot": True}
    assert _analyze(analyzer, "aws:rds/instance:Instance", "db", unprotected) == []
    analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={
        "rds-production-protection": analyzer_pb2.PolicyConfig(
            enforcementLevel=analyzer_pb2.MANDATORY, properties=_struct({"production": True}))}))
    try:
        messages = [m for name, m in _analyze(analyzer, "aws:rds/instance:Instance", "db", unprotected)
                    if name == "rds-production-protection"]
        assert len(messages) == 2
        assert "deletionProtection is not set" in messages[0] and "skipFinalSnapshot is True" in messages[1]
    finally:
        analyzer.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig={}))


def test_stack_policies_use_property_dependencies(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    """During preview a firewall's dropletIds is unknown; the engine's property dependencies still link them."""
    droplet_urn = "urn:pulumi:dev::launchpad::digitalocean:index/droplet:Droplet::web"
    other_urn = "urn:pulumi:dev::launchpad::digitalocean:index/droplet:Droplet::other"
    unknown_array = "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2"  # the engine's sentinel for an unknown list

    def stack(firewall_dependencies: list[str]) -> list[tuple[str, str]]:
        response = analyzer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=[
            analyzer_pb2.AnalyzerResource(
                type="digitalocean:index/droplet:Droplet", name="web", urn=droplet_urn,
                properties=_struct({"sshKeys": [], "tags": []})),
            analyzer_pb2.AnalyzerResource(
                type="digitalocean:index/droplet:Droplet", name="other", urn=other_urn,
                properties=_struct({"sshKeys": ["3b:16:bf"], "tags": []})),
            analyzer_pb2.AnalyzerResource(
                type="digitalocean:index/firewall:Firewall", name="fw",
                urn="urn:pulumi:dev::launchpad::digitalocean:index/firewall:Firewall::fw",
                properties=_struct({"dropletIds": unknown_array, "inboundRules": [
                    {"protocol": "tcp", "portRange": "22", "sourceAddresses": ["203.0.113.7/32"]}]}),
                propertyDependencies={
                    "dropletIds": analyzer_pb2.AnalyzerPropertyDependencies(urns=firewall_dependencies)}),
        ]))
        return sorted((d.policyName, d.urn) for d in response.diagnostics)

    # dropletIds depends on web only: web is covered and its firewall admits SSH, so its missing
    # sshKeys is a violation; other is not covered.
    assert stack([droplet_urn]) == sorted([("droplet-ssh-keys", droplet_urn), ("droplet-behind-firewall", other_urn)])
    # dropletIds depends on other only: web is not covered, so SSH is open to everyone.
    assert stack([other_urn]) == sorted([("droplet-behind-firewall", droplet_urn), ("droplet-ssh-keys", droplet_urn)])
