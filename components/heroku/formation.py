"""How many web dynos of which size run the app.

Creates:
- heroku.formation.Formation for the `web` process type (the Procfile's `web:` line).
  It can only be set once a build declared that process, so it waits for the build.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_heroku as heroku

MAX_QUANTITY = 100


@dataclass
class HerokuFormationArgs:
    app_id: pulumi.Input[str]
    size: str
    """Dyno size: basic, standard-1x, standard-2x, performance-m, performance-l."""
    quantity: int = 1
    process: str = "web"
    after: Sequence[pulumi.Resource] = ()
    """The build that declares the process type."""


class HerokuFormation(pulumi.ComponentResource):
    """The app's web dynos; the escape hatch is `formation`."""

    formation: heroku.formation.Formation

    def __init__(self, name: str, args: HerokuFormationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:heroku:Formation", name, None, opts)
        if not 1 <= args.quantity <= MAX_QUANTITY:
            raise ValueError(f"{name}: quantity {args.quantity} is out of range; 1 to {MAX_QUANTITY} dynos")
        self.formation = heroku.formation.Formation(
            f"{name}-{args.process}", app_id=args.app_id, type=args.process, size=args.size, quantity=args.quantity,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)))
        self.register_outputs({})
