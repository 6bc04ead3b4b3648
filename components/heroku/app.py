"""The Heroku app itself, and the environment every one of its dynos gets.

Creates:
- heroku.app.App in a Common Runtime region on a stack (heroku-24), with the Python
  buildpack named (no detection guesswork), Heroku's automated certificates (ACM) when
  the app has a custom domain, plain config vars (`app.env`, never secrets: the policy
  pack checks) and sensitive config vars (`app.secrets`: Pulumi secrets in the state,
  hidden by Heroku's API and CLI listings as sensitive).

Nothing the app's code or build depends on is an input here, so a new release never
replaces the app (its URL, add-ons and config survive); a config var change is an
in-place update, which Heroku rolls out as a new release of the same slug.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumiverse_heroku as heroku

PYTHON_BUILDPACK = "heroku/python"
APP_NAME = re.compile(r"^[a-z][a-z0-9-]{2,29}$")
"""Heroku's rule for app names: 3 to 30 lowercase letters, digits and dashes, starting with a letter."""
AUTONAME_SUFFIX = 8
"""Pulumi adds '-' and 7 random characters to a name it generates (the provider's autonaming)."""


def name_prefix(app: str, stack: str) -> str:
    """`<app>-<stack>`, trimmed so Pulumi's random suffix still fits Heroku's 30 characters.

    Heroku app names are global, across all accounts: a fixed name would collide, so
    the stack leaves the final name to Pulumi's autonaming (prefix + random suffix).
    """
    raw = re.sub(r"[^a-z0-9-]+", "-", f"{app}-{stack}".lower()).strip("-")
    raw = re.sub(r"-{2,}", "-", raw)
    if not raw or not raw[0].isalpha():
        raw = f"app-{raw}".rstrip("-")
    return raw[: 30 - AUTONAME_SUFFIX].rstrip("-")


@dataclass
class HerokuAppArgs:
    region: str
    """Common Runtime region: `us` or `eu`."""
    stack: str = "heroku-24"
    config_vars: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain environment variables: visible in the state and to anyone who can read the app's config."""
    sensitive_config_vars: pulumi.Input[Mapping[str, pulumi.Input[str]]] = field(default_factory=dict)
    """Secrets: stored as Pulumi secrets; the app sees them as environment variables like the plain ones."""
    acm: bool = False
    """Heroku's automated certificate management, for custom domains."""
    buildpacks: Sequence[str] = (PYTHON_BUILDPACK,)
    name: str | None = None
    """The app's name; None lets Pulumi generate one from the component's name."""


class HerokuApp(pulumi.ComponentResource):
    """A Heroku app with its config vars; the escape hatch is `app`."""

    app: heroku.app.App
    app_id: pulumi.Output[str]
    """The app's id (UUID), what builds, formations, add-ons and domains take."""
    name: pulumi.Output[str]
    web_url: pulumi.Output[str]
    """`https://<name>-<hash>.herokuapp.com/`, where the app answers before (and besides) a custom domain."""

    def __init__(self, name: str, args: HerokuAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:heroku:App", name, None, opts)
        if args.name is not None and not APP_NAME.match(args.name):
            raise ValueError(f"{name}: app name {args.name!r} is not a Heroku app name; "
                             "expected 3 to 30 lowercase letters, digits and dashes, starting with a letter")
        overlap = sorted(set(args.config_vars) & set(args.sensitive_config_vars)) \
            if isinstance(args.sensitive_config_vars, Mapping) else []
        if overlap:
            raise ValueError(f"{name}: {', '.join(overlap)} given both as plain and as sensitive config vars; keep one")
        self.app = heroku.app.App(
            name, name=args.name, region=args.region, stack=args.stack, buildpacks=list(args.buildpacks),
            acm=args.acm or None, config_vars=dict(args.config_vars),
            sensitive_config_vars=args.sensitive_config_vars, opts=pulumi.ResourceOptions(parent=self))
        self.app_id = self.app.id
        self.name = self.app.name
        self.web_url = self.app.web_url
        self.register_outputs({"app_id": self.app_id, "name": self.name, "web_url": self.web_url})
