"""components/heroku/build.py, formation.py and domain.py under mocks."""

from __future__ import annotations

import pulumi
import pytest

from components.heroku.build import HerokuBuild, HerokuBuildArgs
from components.heroku.domain import HerokuDomain, HerokuDomainArgs
from components.heroku.formation import HerokuFormation, HerokuFormationArgs
from heroku_mocks import DNS_TARGET, heroku_outputs  # noqa: F401

pytestmark = pytest.mark.usefixtures("heroku_outputs")
SOURCE = ".launchpad/artifacts/heroku-" + "ab" * 32 + ".tar.gz"


def _build_and_formation(run, **formation):
    def program() -> None:
        addon = pulumi.CustomResource("test:index:Addon", "db", {})
        build = HerokuBuild("prod", HerokuBuildArgs(app_id="app-uuid", source_path=SOURCE, release_id="0123456789ab",
                                                    after=[addon]))
        HerokuFormation("prod", HerokuFormationArgs(app_id="app-uuid", after=[build], **{"size": "basic", **formation}))
    return run(program)


def test_build_uploads_the_tarball_by_path_with_the_release_as_version(run) -> None:
    program = _build_and_formation(run)
    build = program.one("heroku:build/build:Build")
    # The provider computes the checksum of a local path itself and refuses one given beside it.
    assert build.inputs["source"] == {"path": SOURCE, "version": "0123456789ab"}
    assert build.inputs["appId"] == "app-uuid"
    assert program.depends_on(build, program.one("test:index:Addon"))


def test_formation_runs_after_the_build(run) -> None:
    program = _build_and_formation(run, size="standard-2x", quantity=3)
    formation = program.one("heroku:formation/formation:Formation")
    assert (formation.inputs["type"], formation.inputs["size"], formation.inputs["quantity"]) == ("web", "standard-2x", 3)
    assert program.depends_on(formation, program.one("heroku:build/build:Build"))


@pytest.mark.parametrize("build, message", [
    ({"release_id": "not-hex"}, "release id 'not-hex'"),
    ({"source_path": "files/app"}, "expected the .tar.gz"),
])
def test_build_refuses(run, build: dict, message: str) -> None:
    args = {"app_id": "a", "source_path": SOURCE, "release_id": "0123456789ab", **build}
    with pytest.raises(ValueError, match=message):
        run(lambda: HerokuBuild("prod", HerokuBuildArgs(**args)))


def test_formation_refuses_zero_dynos(run) -> None:
    with pytest.raises(ValueError, match="quantity 0 is out of range"):
        run(lambda: HerokuFormation("prod", HerokuFormationArgs(app_id="a", size="basic", quantity=0)))


def test_domain_gives_its_dns_target(run) -> None:
    seen: list[str] = []

    def program() -> None:
        HerokuDomain("prod", HerokuDomainArgs(app_id="app-uuid", hostname="rocket.example.com")).dns_target.apply(seen.append)

    domain = run(program).one("heroku:domain/domain:Domain")
    assert domain.inputs == {"appId": "app-uuid", "hostname": "rocket.example.com"}
    assert seen == [DNS_TARGET]
