"""Launchpad's policy pack: `pulumi preview --policy-pack policy`. The policies live in launchpad_policies.py."""

from pulumi_policy import EnforcementLevel, PolicyPack

from launchpad_policies import POLICIES

PolicyPack(
    name="launchpad",
    policies=POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
)
