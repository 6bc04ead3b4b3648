"""stacks/heroku.py under mocks: the whole Heroku program, with and without a database, with and without a domain."""

from __future__ import annotations

import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from heroku_mocks import ADDON_NAME, DNS_TARGET, app_name, heroku_outputs, web_url  # noqa: F401
from launchpad.render import heroku as render
from launchpad.settings import PROJECT_ROOT, SAMPLE_APP, ConfigError, Settings, validate
from pulumi_mocks import Program
from stacks import heroku as heroku_stack

pytestmark = pytest.mark.usefixtures("heroku_outputs")
DB = {"launchpad:database": {"enabled": True, "version": "16"}}
APP, BUILD, ADDON = "heroku:app/app:App", "heroku:build/build:Build", "heroku:addon/addon:Addon"
FORMATION, DOMAIN, CHECK = "heroku:formation/formation:Formation", "heroku:domain/domain:Domain", "command:local:Command"


def settings(stack: str = "test", secret_keys: frozenset[str] = frozenset(), **config: Any) -> Settings:
    return validate({"launchpad:provider": "heroku", **config}, stack, secret_keys)


def build(run, tmp_path: Path, stack: str = "test", **config: Any) -> Program:
    s = settings(stack, **config)
    return run(lambda: heroku_stack.build(s, work_dir=tmp_path / "work"), stack=stack)


@pytest.fixture(params=["plain", "database"])
def program(request, run, tmp_path: Path) -> Program:
    return build(run, tmp_path, **(DB if request.param == "database" else {}))


def _tarball(program: Program) -> Path:
    path = Path(program.one(BUILD).inputs["source"]["path"])
    return path if path.is_absolute() else PROJECT_ROOT / path


def test_resources(program: Program) -> None:
    types = sorted(r.type for r in program.resources if r.custom)
    database = [ADDON] if program.of_type(ADDON) else []
    assert types == sorted([APP, BUILD, FORMATION, CHECK, *database])
    components = sorted(r.type for r in program.resources if not r.custom)
    assert components == sorted(["launchpad:heroku:App", "launchpad:heroku:Build", "launchpad:heroku:Formation",
                                 "launchpad:checks:Readiness", *(["launchpad:heroku:Database"] if database else [])])


def test_app_region_stack_and_config_vars(run, tmp_path: Path) -> None:
    program = build(run, tmp_path, **{"launchpad:region": "eu", "launchpad:app": {"env": {"DEBUG_LEVEL": "info"}}})
    app = program.one(APP).inputs
    assert (app["region"], app["stack"], app["buildpacks"]) == ("eu", "heroku-24", ["heroku/python"])
    assert app["configVars"] == {"DEBUG_LEVEL": "info", "LAUNCHPAD_TRUSTED_PROXIES": "1"}
    assert "sensitiveConfigVars" not in app or app["sensitiveConfigVars"] == {}


def test_defaults(program: Program) -> None:
    assert program.one(APP).inputs["region"] == "us"
    formation = program.one(FORMATION).inputs
    assert (formation["type"], formation["size"], formation["quantity"]) == ("web", "basic", 1)


def test_size_picks_the_dyno(run, tmp_path: Path) -> None:
    program = build(run, tmp_path, **{"launchpad:size": "standard-2x"})
    assert program.one(FORMATION).inputs["size"] == "standard-2x"


def test_order_app_database_build_formation_readiness(run, tmp_path: Path) -> None:
    program = build(run, tmp_path, **DB)
    app, addon, build_, formation, check = (program.one(t) for t in (APP, ADDON, BUILD, FORMATION, CHECK))
    assert addon.inputs["appId"] == build_.inputs["appId"] == formation.inputs["appId"] == app.id
    assert program.depends_on(build_, addon)  # the release phase sees DATABASE_URL
    assert program.depends_on(formation, build_)  # the web process exists once built
    assert program.depends_on(check, formation)
    # Every new build is checked again, until its own release id answers.
    assert check.inputs["triggers"] == [build_.id, build_.inputs["source"]["version"]]


def test_database_addon(run, tmp_path: Path) -> None:
    program = build(run, tmp_path, **{"launchpad:database": {"enabled": True, "version": "16", "size": "standard-0"}})
    addon = program.one(ADDON).inputs
    assert addon["plan"] == "heroku-postgresql:standard-0" and addon["config"] == {"version": "16"}
    assert program.one(ADDON).protect is False
    assert "--database" not in program.one(CHECK).inputs["create"]  # no health path: GET / is not JSON
    assert "DATABASE_URL" not in program.one(APP).inputs["configVars"]  # Heroku sets it


def test_database_default_plan_and_production_protects_it(run, tmp_path: Path) -> None:
    program = build(run, tmp_path, stack="prod", **DB, **{"launchpad:production": True})
    assert program.one(ADDON).inputs["plan"] == "heroku-postgresql:essential-0"
    assert [r.type for r in program.resources if r.protect] == [ADDON]


def test_build_from_the_artifact_with_the_generated_files(program: Program) -> None:
    source = program.one(BUILD).inputs["source"]
    tarball = _tarball(program)
    assert tarball.name.startswith("heroku-") and tarball.is_file()
    assert set(source) == {"path", "version"}
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
        f = tar.extractfile("Procfile")
        assert f is not None
        procfile = f.read().decode()
    assert {"rocket.py", "requirements.txt", "Procfile", ".python-version", ".profile", render.CONF} <= set(names)
    assert procfile == render.procfile("rocket:app", None)
    with tarfile.open(tarball) as tar:
        f = tar.extractfile(render.CONF)
        assert f is not None
        assert f"LAUNCHPAD_RELEASE = '{source['version']}'" in f.read().decode()


def test_source_path_is_relative_inside_the_project(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    inside = PROJECT_ROOT / ".launchpad" / "artifacts" / "heroku-x.tar.gz"
    monkeypatch.chdir(PROJECT_ROOT)
    assert heroku_stack.source_path(inside) == ".launchpad/artifacts/heroku-x.tar.gz"
    assert heroku_stack.source_path(tmp_path / "x.tar.gz") == str(tmp_path / "x.tar.gz")
    monkeypatch.chdir(tmp_path)
    assert heroku_stack.source_path(inside) == str(inside)


def test_an_app_change_replaces_the_build_never_the_app(run, tmp_path: Path) -> None:
    app_dir = tmp_path / "app"
    shutil.copytree(SAMPLE_APP, app_dir)
    config = {"launchpad:app": {"path": str(app_dir)}}
    before = build(run, tmp_path, **config)
    (app_dir / "rocket.py").write_text((app_dir / "rocket.py").read_text() + "\n# a new release\n")
    after = build(run, tmp_path, **config)
    assert after.one(APP).inputs == before.one(APP).inputs
    assert after.one(BUILD).inputs["source"]["path"] != before.one(BUILD).inputs["source"]["path"]
    assert after.one(BUILD).inputs["source"]["version"] != before.one(BUILD).inputs["source"]["version"]
    assert after.one(FORMATION).inputs == before.one(FORMATION).inputs


def test_readiness_waits_for_the_new_release_on_the_apps_own_url(program: Program) -> None:
    create = program.one(CHECK).inputs["create"]
    host = web_url("rocket-test")[len("https://"):-1]
    release = program.one(BUILD).inputs["source"]["version"]
    # No app.healthPath: GET / and any answer below 500, from the release this build made.
    assert f"-m launchpad.wait https://{host}/ " in create and "--lenient" in create
    assert f"--release {release}" in create
    assert f"heroku logs --app {app_name('rocket-test')}" in create


def test_readiness_on_the_health_path_checks_the_database(run, tmp_path: Path) -> None:
    program = build(run, tmp_path, **{"launchpad:app": {"healthPath": "/healthz"}}, **DB)
    create = program.one(CHECK).inputs["create"]
    assert "herokuapp.com/healthz " in create and "--database" in create and "--lenient" not in create


def test_outputs(program: Program) -> None:
    assert program.outputs == {"url": web_url("rocket-test"), "app_name": app_name("rocket-test")}


def test_custom_domain_with_acm(run, tmp_path: Path) -> None:
    program = build(run, tmp_path, **{"launchpad:domain": "rocket.example.com"})
    assert program.one(APP).inputs["acm"] is True
    assert program.one(DOMAIN).inputs["hostname"] == "rocket.example.com"
    assert program.outputs == {"url": "https://rocket.example.com/", "app_name": app_name("rocket-test"),
                               "dns_target": DNS_TARGET}
    # Readiness checks the app's own URL: DNS may not point at Heroku yet.
    assert "rocket.example.com" not in program.one(CHECK).inputs["create"]


def test_nothing_deleted_before_its_replacement(program: Program) -> None:
    assert [r.name for r in program.resources if r.delete_before_replace] == []


def test_secrets_are_sensitive_config_vars_and_nowhere_else(run, tmp_path: Path) -> None:
    secret = "s3cr3t-Zq8w-value-not-for-logs"
    s = settings(**{"launchpad:app": {"secrets": {"SECRET_KEY": secret}}}, secret_keys=frozenset({"launchpad:app"}))
    program = run(lambda: heroku_stack.build(s, work_dir=tmp_path / "work"))
    app = program.one(APP)
    assert app.inputs["sensitiveConfigVars"] == {"SECRET_KEY": secret}
    assert "sensitiveConfigVars" in app.secret_inputs
    assert "SECRET_KEY" not in app.inputs["configVars"]
    for r in program.resources:
        if r is not app:
            assert secret not in repr(r.inputs), r.type
    with tarfile.open(_tarball(program)) as tar:
        for member in tar:
            f = tar.extractfile(member) if member.isfile() else None
            assert f is None or secret.encode() not in f.read()


def test_release_command_workers_and_dynos(run, tmp_path: Path) -> None:
    program = build(run, tmp_path, **{"launchpad:hosts": 3, "launchpad:app": {"release": "flask db upgrade", "workers": 3}})
    assert program.one(FORMATION).inputs["quantity"] == 3
    assert program.one(APP).inputs["configVars"]["LAUNCHPAD_TRUSTED_PROXIES"] == "1"  # the router: one hop, any dyno count
    with tarfile.open(_tarball(program)) as tar:
        procfile, conf = (tar.extractfile(n).read().decode() for n in ("Procfile", render.CONF))  # type: ignore[union-attr]
    assert procfile.splitlines()[1] == "release: flask db upgrade"
    assert "workers = 3\n" in conf


def test_through_the_program_a_bad_config_builds_nothing(tmp_path: Path) -> None:
    from test_program import run_main

    record: list = []
    with pytest.raises(ConfigError) as caught:
        run_main({"launchpad:provider": "heroku", "launchpad:region": "nyc3", "launchpad:adminCidrs": ["203.0.113.7/32"]},
                 record=record)
    assert {p.key for p in caught.value.problems} == {"region", "adminCidrs"}
    assert record == []


def test_policy_pack_passes_the_program_and_would_catch_a_plain_secret(run, tmp_path: Path) -> None:
    sys.path.insert(0, str(PROJECT_ROOT / "policy"))  # as the policy runner does
    from launchpad_policies import check_resources

    s = settings(**{"launchpad:app": {"secrets": {"SECRET_KEY": "s3cr3t-Zq8w-value"}, "env": {"DEBUG_LEVEL": "info"}}},
                 **DB, secret_keys=frozenset({"launchpad:app"}))
    program = run(lambda: heroku_stack.build(s, work_dir=tmp_path / "work"))
    entries = [(r.type, r.name, r.inputs, r.id) for r in program.resources if r.custom]
    assert check_resources(entries) == []
    tampered = [(t, n, {**p, "configVars": {**p["configVars"], "SECRET_KEY": "s3cr3t-Zq8w-value"}} if t == APP else p, i)
                for t, n, p, i in entries]
    assert [v.policy for v in check_resources(tampered)] == ["no-secrets-in-heroku-config-vars"]
