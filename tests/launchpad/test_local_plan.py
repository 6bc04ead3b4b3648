"""launchpad/local_plan.py: what `pulumi up` hands `launchpad local up`, and how any stack is rehearsed locally."""

from __future__ import annotations

import json

import pytest

from launchpad import local_plan
from launchpad.render.bootstrap import render_user_data
from launchpad.settings import validate

USER_DATA = "#cloud-config\npackages: [nginx]\n"
PLAN = local_plan.LocalPlan(stack="dev", app_unit="rocket", domain="rocket.test",
                            database=local_plan.DatabasePlan("15", "app"))


def test_plan_of_a_local_stack() -> None:
    settings = validate({"launchpad:domain": "rocket.test", "launchpad:database": {"enabled": True}}, "dev")
    assert local_plan.plan_for(settings) == PLAN
    assert local_plan.plan_for(validate({}, "dev")) == local_plan.LocalPlan("dev", "rocket")
    assert local_plan.user_data_for(settings) == render_user_data(settings)


def test_a_cloud_stack_is_rehearsed_on_debian_postgresql() -> None:
    settings = validate({"launchpad:provider": "aws", "launchpad:region": "eu-west-1", "launchpad:size": "t3.medium",
                         "launchpad:database": {"enabled": True, "version": "16"}}, "prod")
    local = local_plan.rehearsal(settings)
    assert (local.provider, local.region, local.size, local.database.version) == ("local", None, None, "15")
    assert local_plan.plan_for(settings).database == local_plan.DatabasePlan("15", "app")
    assert local_plan.user_data_for(settings) == render_user_data(local)


def test_encode_decode_round_trip() -> None:
    assert local_plan.decode(local_plan.encode(USER_DATA, PLAN)) == (USER_DATA, PLAN)
    bare = local_plan.LocalPlan("dev", "rocket")
    assert local_plan.decode(local_plan.encode(USER_DATA, bare)) == (USER_DATA, bare)


def _with(change: dict) -> str:
    data = json.loads(local_plan.encode(USER_DATA, PLAN))
    for key, value in change.items():
        target = data
        *path, last = key.split(".")
        for part in path:
            target = target[part]
        if value is KeyError:
            del target[last]
        else:
            target[last] = value
    return json.dumps(data)


@pytest.mark.parametrize("text, message", [
    ("{not json", "plan: not JSON"),
    (_with({"user_data": "packages: []"}), "user_data starts 'packages: []'; expected a rendered '#cloud-config'"),
    (_with({"user_data": KeyError}), "plan: user_data is missing"),
    (_with({"plan.stack": KeyError}), "plan: plan.stack is missing"),
    (_with({"plan.app_unit": 7}), "plan: plan.app_unit is 7; expected a str"),
    (_with({"plan.domain": ["a"]}), "plan.domain: ['a'] is not a string or null"),
    (_with({"plan.database.version": 15}), "plan: plan.database.version is 15; expected a str"),
])
def test_decode_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError) as err:
        local_plan.decode(text)
    assert message in str(err.value)


def test_commands_quote_the_interpreter() -> None:
    assert local_plan.up_command("/opt/my venv/bin/python", "dev") == \
        "'/opt/my venv/bin/python' -m launchpad.cli local up --stack dev --plan - --json"
    assert local_plan.down_command("./.venv/bin/python", "dev") == "./.venv/bin/python -m launchpad.cli local down --stack dev"


BALANCED = local_plan.LocalPlan(stack="lb", app_unit="rocket", domain="rocket.test", hosts=3,
                                balancer=local_plan.BalancerPlan("/healthz", "rocket.test", True))


def test_a_balanced_stack_plans_its_web_machines_and_the_balancers_health_check() -> None:
    settings = validate({"launchpad:hosts": 3, "launchpad:domain": "rocket.test", "launchpad:app": {"healthPath": "/healthz"}}, "lb")
    assert local_plan.plan_for(settings) == BALANCED
    # Without a health path the balancer asks / and takes any answer below 500, on any Host.
    assert local_plan.plan_for(validate({"launchpad:hosts": 2}, "lb")).balancer == local_plan.BalancerPlan("/", "localhost", False)
    # An autoscaled AWS stack is rehearsed at its starting size.
    aws = {"launchpad:provider": "aws", "launchpad:region": "eu-west-1"}
    assert local_plan.plan_for(validate({**aws, "launchpad:autoscale": {"min": 2, "max": 5}}, "p")).hosts == 2
    assert local_plan.plan_for(validate({**aws, "launchpad:hosts": 3, "launchpad:autoscale": {"min": 2, "max": 5}}, "p")).hosts == 3
    assert local_plan.decode(local_plan.encode(USER_DATA, BALANCED)) == (USER_DATA, BALANCED)


@pytest.mark.parametrize("change, message", [
    ({"plan.hosts": 0}, "plan.hosts: 0; expected a whole number from 1 to 20"),
    ({"plan.hosts": True}, "plan.hosts: True; expected a whole number"),
    ({"plan.balancer": None}, "plan: hosts 3 without a balancer"),
    ({"plan.balancer.strict": "yes"}, "plan: plan.balancer.strict is 'yes'; expected a bool"),
])
def test_decode_names_what_is_wrong_with_a_balanced_plan(change: dict, message: str) -> None:
    data = json.loads(local_plan.encode(USER_DATA, BALANCED))
    for key, value in change.items():
        *path, last = key.split(".")
        target = data
        for part in path:
            target = target[part]
        target[last] = value
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        local_plan.decode(json.dumps(data))
