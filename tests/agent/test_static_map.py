"""The manifest's static map becomes nginx config (`location ^~ <url>`, `alias <release>/<folder>/`),
so the agent checks it again on the host, whatever the deployer checked: a full match of an
allow-list, no `..`, no quote, `;`, brace or newline. A bad map refuses the release at stage
`install` (before anything is unpacked), and the nginx writer refuses it on its own (`switch`),
leaving the live files untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kit
from kit import agent

rules = agent("rules")
host_mod = agent("host")
release = agent("release")
state = agent("state")

GOOD = [{}, {"/static/": "pkg/static/"}, {"/assets/": "front/dist"}, {"/": "public/"}, {"/a.b/~c-d_e/": "x.y/z_1-2/"}]
BAD = [
    ({"/static/\n": "s/"}, "URL prefix"),
    ({"/static/": "s/\n"}, "folder"),
    ({"/static/; deny all;": "s/"}, "URL prefix"),
    ({"static/": "s/"}, "URL prefix"),
    ({"/static": "s/"}, "URL prefix"),
    ({"/../": "s/"}, "URL prefix"),
    ({"/./x/": "s/"}, "URL prefix"),
    ({"//": "s/"}, "URL prefix"),
    ({"/s p/": "s/"}, "URL prefix"),
    ({'/s"/': "s/"}, "URL prefix"),
    ({"/s{/": "s/"}, "URL prefix"),
    ({"/static/": "../etc/"}, "folder"),
    ({"/static/": "a/../../etc/"}, "folder"),
    ({"/static/": "/etc/"}, "folder"),
    ({"/static/": "./"}, "folder"),
    ({"/static/": "s;/"}, "folder"),
    ({"/static/": "s'/"}, "folder"),
    ({"/static/": "s}/"}, "folder"),
    ({"/static/": "s\r/"}, "folder"),
    ({"/static/": ""}, "folder"),
    ({"/static/": 7}, "folder"),
    ({"/static/": "a//b/"}, "folder"),
]


@pytest.mark.parametrize("static", GOOD)
def test_good_maps_pass_and_render(static: dict) -> None:
    assert rules.static_problems(static) == []
    conf = rules.static_conf("rocket", "/srv/rocket/releases/0123456789ab", static)
    assert conf.count("location ^~ ") == len(static)


@pytest.mark.parametrize("static, what", BAD)
def test_bad_maps_are_refused_naming_the_value(static: dict, what: str) -> None:
    problems = rules.static_problems(static)
    assert len(problems) == 1 and what in problems[0] and repr(next(iter(static.items()))[0 if what == "URL prefix" else 1]) in problems[0]
    with pytest.raises(ValueError):
        rules.static_conf("rocket", "/srv/rocket/releases/0123456789ab", static)


def test_not_a_map_is_refused() -> None:
    assert rules.static_problems(["/static/"]) and rules.static_problems("x")


def test_the_release_is_refused_at_install_before_anything_is_unpacked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "STATUS", tmp_path / "status.json")
    manifest = kit.manifest(b"x", app="root", static={"/static/": "s/\n"})

    class Store:
        def get(self, key: str) -> bytes | None:
            return json.dumps(manifest).encode() if key == f"releases/{manifest['id']}.json" else None

        def open(self, key: str):  # type: ignore[no-untyped-def]
            raise AssertionError(f"nothing may be fetched or unpacked: {key}")

    assert release.deploy({"app": "root", "store": "file:///nowhere"}, Store(), manifest["id"]) == 1
    failure = json.loads((tmp_path / "status.json").read_text())["last_failure"]
    assert failure["stage"] == "install" and "static" in failure["message"] and "'s/\\n'" in failure["message"]


def test_the_nginx_switch_refuses_a_bad_map_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_mod, "NGINX_DIR", tmp_path)
    (tmp_path / "root-static.conf").write_text("# live\n")
    host = host_mod.Host({"app": "root"})
    manifest = kit.manifest(b"x", app="root", static={"/static/ {} location / { return 200 x; } #": "s/"})
    with pytest.raises(rules.Failure) as err:
        host.switch("a", manifest, Path("/srv/root/releases") / manifest["id"])
    assert err.value.stage == "switch"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root-static.conf"]
    assert (tmp_path / "root-static.conf").read_text() == "# live\n"
