"""The app's PostgreSQL on Heroku: the heroku-postgresql add-on.

Creates:
- heroku.addon.Addon `heroku-postgresql:<plan>` (default plan `essential-0`) with the
  PostgreSQL major version asked for. Heroku attaches it as `DATABASE_URL` itself: the
  password never passes through Launchpad or the Pulumi state. Heroku Postgres requires
  TLS and keeps its own backups per plan.
Production: the add-on is `protect`ed (deleting it deletes the data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumiverse_heroku as heroku

SERVICE = "heroku-postgresql"
DEFAULT_PLAN = "essential-0"
PLAN = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class HerokuDatabaseArgs:
    app_id: pulumi.Input[str]
    plan: str = DEFAULT_PLAN
    """The plan's slug: essential-0, essential-1, standard-0, premium-0 ..."""
    version: str | None = None
    """PostgreSQL major version; None takes Heroku's current default."""
    production: bool = False


class HerokuDatabase(pulumi.ComponentResource):
    """heroku-postgresql attached to the app as DATABASE_URL; the escape hatch is `addon`."""

    addon: heroku.addon.Addon
    name: pulumi.Output[str]
    """The add-on's name (postgresql-<words>-<n>), what `heroku pg:*` commands take."""

    def __init__(self, name: str, args: HerokuDatabaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:heroku:Database", name, None, opts)
        if not PLAN.match(args.plan):
            raise ValueError(f"{name}: plan {args.plan!r} is not a {SERVICE} plan slug; expected like {DEFAULT_PLAN}")
        config = {"version": args.version} if args.version else None
        self.addon = heroku.addon.Addon(
            f"{name}-postgres", app_id=args.app_id, plan=f"{SERVICE}:{args.plan}", config=config,
            opts=pulumi.ResourceOptions(parent=self, protect=args.production))
        self.name = self.addon.name
        self.register_outputs({"name": self.name})
