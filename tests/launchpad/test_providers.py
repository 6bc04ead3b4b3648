"""The provider catalog: every profile complete and self-consistent, and the one user-data encoding."""

from __future__ import annotations

import base64
import gzip
from pathlib import Path

import pytest

from launchpad import providers
from launchpad.providers import PROFILES, RetentionRule, SizeRule, UserDataRule
from launchpad.render.bootstrap import render
from launchpad.settings import validate


def test_every_profile_has_a_stack_module() -> None:
    """__main__.py imports stacks.<provider>: a profile without one could not deploy."""
    stacks = Path(__file__).resolve().parents[2] / "stacks"
    assert {"aws", "digitalocean", "local"} <= set(PROFILES)
    for name in PROFILES:
        assert (stacks / f"{name}.py").is_file(), f"stacks/{name}.py missing for provider {name}"


@pytest.mark.parametrize("profile", PROFILES.values(), ids=lambda p: p.name)
def test_defaults_pass_the_profiles_own_rules(profile: providers.ProviderProfile) -> None:
    assert profile.default_region in profile.regions
    assert profile.size.problem(profile.size.default, profile.name, "size") is None
    assert profile.database.size.problem(profile.database.size.default, profile.name, "database size") is None
    assert profile.database.backup_retention.problem(7 if profile.name != "local" else 0) is None
    assert "15" in profile.database.versions


@pytest.mark.parametrize("profile", PROFILES.values(), ids=lambda p: p.name)
def test_validate_takes_every_default_of_every_profile(profile: providers.ProviderProfile) -> None:
    s = validate({"launchpad:provider": profile.name, "launchpad:region": profile.default_region,
                  "launchpad:size": profile.size.default}, "test")
    assert s.profile is profile
    assert (s.resolved_region, s.resolved_size, s.database_size) == (
        profile.default_region, profile.size.default, profile.database.size.default)


def test_size_rule_messages() -> None:
    rule = SizeRule("t3.small", providers.AWS.size.pattern, "an EC2 instance type", "t3.small or m7g.large")
    assert rule.problem("m7g.large", "aws", "size") is None
    assert rule.problem("huge", "aws", "size") == "'huge' is not an EC2 instance type; expected like t3.small or m7g.large"
    fixed = SizeRule("local")
    assert fixed.problem("local", "local", "size") is None
    assert fixed.problem("big", "local", "size") == "'big': the local provider takes no size; remove the key or set 'local'"


@pytest.mark.parametrize("rule, good, bad", [
    (RetentionRule(1, 35, "x"), [1, 35], [0, 36]),
    (RetentionRule(7, 7, "x"), [7], [6, 8]),
    (RetentionRule(0, None, "x"), [0, 10_000], [-1]),
])
def test_retention_rule_bounds(rule: RetentionRule, good: list[int], bad: list[int]) -> None:
    assert all(rule.problem(v) is None for v in good)
    assert all(rule.problem(v) == "x" for v in bad)


def test_ec2_encoding_is_gzip_base64_and_deterministic() -> None:
    text = render(validate({}, "test")).user_data
    rule = providers.AWS.user_data
    assert rule is not None
    encoded = rule.encode(text)
    assert gzip.decompress(base64.b64decode(encoded)).decode() == text
    assert rule.encode(text) == encoded
    assert rule.size(text) == len(base64.b64decode(encoded))


def test_plain_user_data_is_passed_as_is() -> None:
    rule = UserDataRule(64 * 1024, "limit")
    assert rule.encode("#cloud-config\n") == "#cloud-config\n"
    assert rule.size("é") == 2


def test_a_provider_without_a_vm_fits_the_profile() -> None:
    """A platform provider (a later issue adds Heroku) has no user-data; the profile allows it."""
    platform = providers.ProviderProfile(
        name="platform", title="Platform", regions=("us",), default_region="us", size=SizeRule("basic"),
        database=providers.LOCAL.database, user_data=None)
    assert platform.user_data is None
