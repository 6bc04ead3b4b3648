"""`launchpad rollback` and `launchpad status` on a cloud stack behind a balancer: the rollback rolls host by
host through `python -m launchpad.ops.roll` (a process of its own: boto3 stays out of the CLI), with the
arguments the stack's `rollout` output names; status shows what each host's agent published."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from launchpad.cli import ops, release_cloud
from launchpad.ops.roll import args_from_output
from launchpad.release.manifest import new_manifest
from launchpad.release.s3 import StoreError
from launchpad.settings import validate

AWS_ROLLOUT = {"provider": "aws", "store": "s3://shop-releases-1a2b/shop", "region": "eu-west-1",
               "target_group": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123"}
DO_ROLLOUT = {"provider": "digitalocean", "store": "s3://shop-releases/shop", "region": "ams3", "status_bucket": "shop-status",
              "balancer": "lb-1", "host_tag": "lp-shop", "rotation_tag": "lp-shop-lb"}


def test_the_rollout_output_becomes_the_rolls_arguments() -> None:
    assert args_from_output(AWS_ROLLOUT) == ["aws", "--store", AWS_ROLLOUT["store"], "--region", "eu-west-1",
                                             "--target-group", AWS_ROLLOUT["target_group"]]
    assert args_from_output(DO_ROLLOUT)[:1] == ["digitalocean"] and "--rotation-tag" in args_from_output(DO_ROLLOUT)
    with pytest.raises(ValueError, match="target_group missing"):
        args_from_output({**AWS_ROLLOUT, "target_group": ""})
    with pytest.raises(ValueError, match="provider 'gcp'"):
        args_from_output({"provider": "gcp"})


class Store:
    def __init__(self, manifests: list[Any]) -> None:
        self.manifests, self.pointed = manifests, []

    def list_manifests(self) -> list[Any]:
        return self.manifests

    def get_manifest(self, rid: str) -> Any:
        return next((m for m in self.manifests if m.id == rid), None)

    def set_desired(self, rid: str) -> None:
        self.pointed.append(rid)


def manifests() -> list[Any]:
    return [new_manifest(artifact=f"{n}" * 64, artifact_bytes=1, source_hash="s" * 64, deps_hash="d" * 16, deps="none",
                         app="rocket", module="rocket:app", created=f"2026-01-0{n}T00:00:00Z") for n in (3, 2, 1)]


@pytest.mark.parametrize("code", [0, 1])
def test_a_balanced_rollback_rolls_host_by_host_and_never_moves_the_pointer_itself(monkeypatch: pytest.MonkeyPatch,
                                                                                   code: int) -> None:
    ms = manifests()
    store = Store(ms)
    outputs = {"public_ip": "shop-alb.eu-west-1.elb.amazonaws.com", "rollout": AWS_ROLLOUT}
    monkeypatch.setattr(release_cloud, "store_for", lambda settings, run=None: (store, outputs))
    monkeypatch.setattr(release_cloud, "live_release", lambda address, domain, path: ms[0].id)
    ran: list[list[str]] = []

    def fake_run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        assert kw.get("stderr") is None  # the roll's progress streams to the terminal
        return subprocess.CompletedProcess(argv, code, stdout="{}", stderr=None)

    monkeypatch.setattr(release_cloud.subprocess, "run", fake_run)
    settings = validate({"launchpad:provider": "aws", "launchpad:hosts": 3}, "shop")
    if code:
        with pytest.raises(release_cloud.RollFailed, match=f"roll back to {ms[1].id} stopped"):
            release_cloud.rollback(settings, None, 120)
    else:
        assert release_cloud.rollback(settings, None, 120)[0] == ms[1].id
    assert ran == [[sys.executable, "-m", "launchpad.ops.roll", *args_from_output(AWS_ROLLOUT), "--release", ms[1].id,
                    "--timeout", "120"]]
    assert store.pointed == []


def test_published_statuses_come_from_the_roll_process(monkeypatch: pytest.MonkeyPatch) -> None:
    statuses = {"i-0a": {"live": "aaaaaaaaaaaa", "slot": "b"}, "i-0b": {"live": "bbbbbbbbbbbb", "slot": "a",
                                                                        "last_failure": {"id": "cccccccccccc", "stage": "release"}}}
    outputs = {"rollout": AWS_ROLLOUT}
    monkeypatch.setattr(release_cloud, "stack_outputs", lambda stack, run=None: outputs)
    monkeypatch.setattr(release_cloud.subprocess, "run", lambda argv, **kw: subprocess.CompletedProcess(
        argv, 0 if argv[-1] == "--status" else 9, stdout=json.dumps(statuses), stderr=""))
    settings = validate({"launchpad:provider": "aws", "launchpad:hosts": 2}, "shop")
    assert release_cloud.published(settings) == statuses
    text = ops._status_text({"stack": "shop", "provider": "aws", "url": "http://x/", "hosts": [],
                             "published": {"hosts": statuses}})
    assert "    i-0a: release aaaaaaaaaaaa live (slot b)" in text
    assert "    i-0b: release bbbbbbbbbbbb live (slot a); last failure cccccccccccc at release" in text
    monkeypatch.setattr(release_cloud.subprocess, "run", lambda argv, **kw: subprocess.CompletedProcess(
        argv, 2, stdout="", stderr="launchpad roll: NoCredentialsError: Unable to locate credentials"))
    with pytest.raises(StoreError, match="Unable to locate credentials"):
        release_cloud.published(settings)
    monkeypatch.setattr(release_cloud, "stack_outputs", lambda stack, run=None: {})
    assert release_cloud.published(settings) == {}


def test_releases_behind_a_balancer_say_where_each_is_live(monkeypatch: pytest.MonkeyPatch) -> None:
    ms = manifests()

    class Listing(Store):
        def get_desired(self) -> Any:
            return None

    outputs = {"public_ip": "shop-alb", "rollout": AWS_ROLLOUT}
    monkeypatch.setattr(release_cloud, "store_for", lambda settings, run=None: (Listing(ms), outputs))
    monkeypatch.setattr(release_cloud, "stack_outputs", lambda stack, run=None: outputs)
    monkeypatch.setattr(release_cloud, "live_release", lambda address, domain, path: ms[0].id)
    statuses = {"i-0a": {"live": ms[0].id}, "i-0b": {"live": ms[1].id}, "i-0c": {"live": ms[0].id}}
    monkeypatch.setattr(release_cloud, "published", lambda settings, run=None: statuses)
    rows = release_cloud.history(validate({"launchpad:provider": "aws", "launchpad:hosts": 3}, "shop"))
    assert [(r["id"], r["live_on"], r["live"]) for r in rows] == [
        (ms[0].id, ["i-0a", "i-0c"], True), (ms[1].id, ["i-0b"], True), (ms[2].id, [], False)]
