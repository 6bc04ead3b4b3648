"""The `heroku` provider: the app on Heroku's Common Runtime, from the same release artifact as the VM hosts.

Order of a deploy: app (config vars) -> database add-on (sets DATABASE_URL) -> build of the
source tarball (buildpack, then the Procfile's `release:` command) -> web formation ->
readiness on the app's URL -> outputs. A custom domain hangs off the app.

The source tarball is the release artifact (launchpad/release/artifact.py) plus the files
Heroku reads from the source (launchpad/render/heroku.py), content-addressed, so a change of
code, dependencies, entry point, workers or release command makes a new build; the app is
never replaced by one. Secrets are sensitive config vars; plain env vars are config vars.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pulumi

from components.heroku.app import HerokuApp, HerokuAppArgs, name_prefix
from components.heroku.build import HerokuBuild, HerokuBuildArgs
from components.heroku.database import HerokuDatabase, HerokuDatabaseArgs
from components.heroku.domain import HerokuDomain, HerokuDomainArgs
from components.heroku.formation import HerokuFormation, HerokuFormationArgs
from components.readiness import Readiness, ReadinessArgs
from launchpad.release import artifact
from launchpad.render.heroku_source import HerokuSource, WebSettings, build_source
from launchpad.settings import PROJECT_ROOT, Settings

STACK = "heroku-24"
WORK_DIR = PROJECT_ROOT / ".launchpad"
"""Where artifacts are built (`artifacts/<sha256>.tar.gz`, and the Heroku source beside them)."""


@dataclass(frozen=True)
class Plan:
    """What the stack builds, read once from the validated settings (launchpad/providers.py: HEROKU)."""

    region: str
    size: str
    quantity: int
    env: dict[str, str]
    secrets: dict[str, str]
    """Values in the clear: the stack wraps them as Pulumi secrets."""
    release_command: str | None
    health_path: str | None
    database_plan: str


def plan(settings: Settings) -> Plan:
    app = settings.app
    return Plan(
        region=settings.resolved_region,
        size=settings.resolved_size,
        quantity=settings.hosts,  # web dynos, spread over by Heroku's router
        # The router is the one proxy in front of a dyno: the app's ProxyFix trusts one hop.
        env={**app.env, "LAUNCHPAD_TRUSTED_PROXIES": str(settings.trusted_proxies)},
        secrets={name: value.get_secret_value() for name, value in app.secrets.items()},
        release_command=app.release,
        health_path=app.health_path,
        database_plan=settings.database_size,
    )


def source_path(path: Path) -> str:
    """The tarball's path as the Heroku provider gets it: relative to the project when
    `pulumi up` runs there (the provider runs in the same folder), so a laptop and CI
    give the build the same input."""
    if Path.cwd() == PROJECT_ROOT and path.is_relative_to(PROJECT_ROOT):
        return str(path.relative_to(PROJECT_ROOT))
    return str(path)


def build_release(settings: Settings, work_dir: Path, p: Plan) -> HerokuSource:
    art = artifact.build(settings.app_path, work_dir)
    web = WebSettings(module=settings.app.module, workers=settings.app.workers, threads=settings.app.threads,
                      release_command=p.release_command)
    return build_source(art.path, art.sha256, web)


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def build(settings: Settings, work_dir: Path | None = None) -> None:
    p = plan(settings)
    source = build_release(settings, work_dir or WORK_DIR, p)
    name = settings.stack

    app = HerokuApp(name_prefix(settings.app.unix_name, settings.stack), HerokuAppArgs(
        region=p.region, stack=STACK, config_vars=p.env,
        sensitive_config_vars=pulumi.Output.secret(p.secrets) if p.secrets else {},
        acm=bool(settings.domain)))

    after: list[pulumi.Resource] = []
    if settings.database.enabled:
        db = HerokuDatabase(name, HerokuDatabaseArgs(
            app_id=app.app_id, plan=p.database_plan, version=settings.database.version,
            production=settings.production))
        after.append(db)

    build_ = HerokuBuild(name, HerokuBuildArgs(
        app_id=app.app_id, source_path=source_path(source.path), release_id=source.release_id, after=after))
    formation = HerokuFormation(name, HerokuFormationArgs(
        app_id=app.app_id, size=p.size, quantity=p.quantity, after=[build_]))

    domain = HerokuDomain(name, HerokuDomainArgs(app_id=app.app_id, hostname=settings.domain)) \
        if settings.domain else None

    logs = app.name.apply(lambda n: f"launchpad logs --stack {settings.stack}; heroku logs --app {n} --num 200; "
                                    f"heroku releases --app {n}")
    # The app's own URL over HTTPS, as users reach it (a custom domain's DNS may not point at Heroku
    # yet), until the new release answers its health path: X-Launchpad-Release names the build's release id.
    Readiness(name, ReadinessArgs(
        address=app.web_url.apply(_host), host_id=build_.build.id, release_id=source.release_id,
        health_path=p.health_path, database=settings.database.enabled and p.health_path is not None,
        scheme="https", logs=logs, after=[formation]))

    url = pulumi.Output.from_input(f"https://{settings.domain}/") if settings.domain else app.web_url
    pulumi.export("url", url)
    pulumi.export("app_name", app.name)
    if domain is not None:
        pulumi.export("dns_target", domain.dns_target)

