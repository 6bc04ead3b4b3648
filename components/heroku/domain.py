"""A custom domain on the Heroku app, with a certificate from Heroku's ACM.

Creates:
- heroku.domain.Domain for the hostname. Heroku answers a DNS target
  (`<words>.herokudns.com`): point the domain at it (a CNAME, or ALIAS/ANAME for an apex
  domain), and ACM (turned on by the app, components/heroku/app.py) obtains and renews the
  certificate once DNS resolves there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumiverse_heroku as heroku


@dataclass
class HerokuDomainArgs:
    app_id: pulumi.Input[str]
    hostname: str


class HerokuDomain(pulumi.ComponentResource):
    """The app answering on a custom hostname; the escape hatch is `domain`."""

    domain: heroku.domain.Domain
    dns_target: pulumi.Output[str]
    """Where the hostname's DNS record must point."""

    def __init__(self, name: str, args: HerokuDomainArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:heroku:Domain", name, None, opts)
        self.domain = heroku.domain.Domain(f"{name}-domain", app_id=args.app_id, hostname=args.hostname,
                                           opts=pulumi.ResourceOptions(parent=self))
        self.dns_target = self.domain.cname
        self.register_outputs({"dns_target": self.dns_target})
