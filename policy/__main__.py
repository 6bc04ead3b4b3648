"""Launchpad's policy pack: `pulumi preview --policy-pack policy`. The policies live in the launchpad_policies package."""

from pulumi_policy import EnforcementLevel, PolicyPack

from launchpad_policies import POLICIES

PolicyPack(
    name="launchpad",
    policies=POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
)
