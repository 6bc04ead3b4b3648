"""Running the policies without the engine: `check_resources` over plain dicts, e.g. what a program
registers under mocks, collecting Violations the way `pulumi preview --policy-pack` would report them."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from pulumi_policy import (
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from launchpad_policies.policies import POLICIES
from launchpad_policies.values import PRODUCTION_CONFIG


ResourceEntry = Union[tuple[str, str, Mapping[str, Any]], tuple[str, str, Mapping[str, Any], Any]]
"""(type token, name, props) or (type token, name, props, id): what a mocks `new_resource` sees."""


@dataclass(frozen=True)
class Violation:
    policy: str
    resource: str
    """Name of the resource the violation is about; "" for the stack as a whole."""
    message: str
    level: str = "mandatory"
    """"mandatory", or "advisory" when the policy could not run (a value unknown before the update)."""


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return copy.copy(value)


def _urn(resource_type: str, name: str) -> str:
    return f"urn:pulumi:check::launchpad::{resource_type}::{name}"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)


def _config_for(policy: Policy, production: bool) -> dict[str, Any]:
    schema = policy.config_schema
    if schema is not None and PRODUCTION_CONFIG in schema.properties:
        return {PRODUCTION_CONFIG: production}
    return {}


def check_resources(resources: Sequence[ResourceEntry], production: bool = False) -> list[Violation]:
    """Run every policy of the pack over plain resources, as the engine would, and collect the violations.

    Props use the engine's camelCase names (what `pulumi.runtime.Mocks.new_resource` receives as
    `args.inputs`). Give an id as a fourth element (or an "id" prop) wherever another resource refers
    to it by id, e.g. a droplet listed in a firewall's dropletIds. `production` is the policy config
    value `production` the pack would get from `--policy-pack-config`.
    """
    stack: list[PolicyResource] = []
    violations: list[Violation] = []
    for entry in resources:
        resource_type, name, props = entry[0], entry[1], _plain(entry[2])
        if len(entry) > 3 and entry[3] is not None:
            props.setdefault("id", entry[3])
        urn = _urn(resource_type, name)
        stack.append(PolicyResource(resource_type, unknown_checking_proxy(props), urn, name, _options(),
                                    None, None, [], {}))
        for policy in POLICIES:
            if not isinstance(policy, ResourceValidationPolicy):
                continue
            args = ResourceValidationArgs(resource_type, unknown_checking_proxy(copy.deepcopy(props)), urn, name,
                                          _options(), None, _config_for(policy, production))
            _run(policy, args, name, {}, violations)
    names = {r.urn: r.name for r in stack}
    for policy in POLICIES:
        if isinstance(policy, StackValidationPolicy):
            _run(policy, StackValidationArgs(stack, _config_for(policy, production)), "", names, violations)
    return violations


def _run(policy: Policy, args: ResourceValidationArgs | StackValidationArgs, default_resource: str,
         names: Mapping[str, str], violations: list[Violation]) -> None:
    def report_violation(message: str, urn: str | None = None) -> None:
        resource = names.get(urn, default_resource) if urn else default_resource
        violations.append(Violation(policy.name, resource, message))

    try:
        if isinstance(policy, ResourceValidationPolicy) and isinstance(args, ResourceValidationArgs):
            policy.validate(args, report_violation)
        elif isinstance(policy, StackValidationPolicy) and isinstance(args, StackValidationArgs):
            policy.validate(args, report_violation)
    except UnknownValueError as error:
        violations.append(Violation(policy.name, default_resource, f"can't run during preview: {error.message}",
                                    level="advisory"))
