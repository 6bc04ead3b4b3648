"""Per-host pointers (issue 14: releases roll host by host): a host whose agent.json names a
`host_id` source follows `releases/desired/<host-id>.json` when the deployer wrote one, else the
stack's `releases/desired.json`; without a source only the stack's pointer is read (one host)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit import agent

store_mod = agent("store")
rules = agent("rules")


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "run" / "host-id"
    monkeypatch.setattr(store_mod, "HOST_ID_CACHE", path)
    return path


def _store(tmp_path: Path, stack: str | None, pins: dict[str, str]) -> object:
    root = tmp_path / "store"
    (root / "releases" / "desired").mkdir(parents=True)
    if stack:
        (root / "releases" / "desired.json").write_text(json.dumps({"id": stack, "at": "t0"}))
    for host, rid in pins.items():
        (root / "releases" / "desired" / f"{host}.json").write_text(json.dumps({"id": rid, "at": "t1"}))
    return store_mod.FileStore(str(root))


def _pointed(cfg: dict, store: object) -> str | None:
    raw = store_mod.desired_pointer(cfg, store)
    return None if raw is None else json.loads(raw)["id"]


def test_a_pinned_host_follows_its_own_pointer_the_others_the_stacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      cache: Path) -> None:
    store = _store(tmp_path, "aaaaaaaaaaaa", {"lp-s-web-0": "bbbbbbbbbbbb"})
    monkeypatch.setattr(store_mod.os, "uname", lambda: type("U", (), {"nodename": "lp-s-web-0"})())
    assert _pointed({"host_id": "hostname"}, store) == "bbbbbbbbbbbb"
    assert cache.read_text().strip() == "lp-s-web-0"
    cache.write_text("lp-s-web-1\n")  # another machine (the cache is per boot, in /run)
    assert _pointed({"host_id": "hostname"}, store) == "aaaaaaaaaaaa"


def test_without_a_host_id_source_only_the_stacks_pointer_counts(tmp_path: Path, cache: Path) -> None:
    store = _store(tmp_path, "aaaaaaaaaaaa", {"anything": "bbbbbbbbbbbb"})
    assert store_mod.host_id({}) is None
    assert _pointed({}, store) == "aaaaaaaaaaaa"
    assert not cache.exists()


def test_no_pointer_at_all_is_none(tmp_path: Path, cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    cache.write_text("lp-s-web-0\n")
    assert _pointed({"host_id": "hostname"}, _store(tmp_path, None, {})) is None


def test_aws_reads_the_instance_id_through_imdsv2(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    aws = agent("aws")
    calls: list[tuple[str, str, dict]] = []

    def imds(method: str, path: str, headers: dict[str, str]) -> str:
        calls.append((method, path, headers))
        return "tok" if method == "PUT" else "i-0abc123def4567890"

    monkeypatch.setattr(aws, "_imds", imds)
    assert store_mod.host_id({"host_id": "aws"}) == "i-0abc123def4567890"
    assert calls[0][:2] == ("PUT", "/latest/api/token")
    assert calls[1] == ("GET", "/latest/meta-data/instance-id", {"X-aws-ec2-metadata-token": "tok"})
    calls.clear()
    assert store_mod.host_id({"host_id": "aws"}) == "i-0abc123def4567890"
    assert calls == []  # once per boot


def test_digitalocean_reads_the_droplet_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_mod, "_metadata", lambda path: "361234567\n" if path == "/metadata/v1/id" else "")
    assert store_mod.host_id({"host_id": "digitalocean"}) == "361234567"


@pytest.mark.parametrize(("cfg", "answer", "message"), [
    ({"host_id": "gcp"}, "x", "host_id 'gcp' in agent.json: expected hostname, aws or digitalocean"),
    ({"host_id": "digitalocean"}, "../../secrets/x", "is not a host name or id"),
])
def test_bad_sources_and_answers_are_refused(monkeypatch: pytest.MonkeyPatch, cfg: dict, answer: str, message: str) -> None:
    monkeypatch.setattr(store_mod, "_metadata", lambda path: answer)
    with pytest.raises(rules.Failure, match=message.replace("(", r"\(")):
        store_mod.host_id(cfg)
