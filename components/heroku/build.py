"""A Heroku build and release of one source tarball.

Creates:
- heroku.build.Build from `source.path`: a local tar.gz (launchpad/render/heroku_source.py:
  the release artifact plus Procfile, runtime files and gunicorn settings). The provider
  uploads it to Heroku's source store, runs the buildpack, then the Procfile's `release:`
  command, and returns only when the release is out, or fails `pulumi up` with the
  build's log URL. It computes the tarball's SHA256 itself (`localChecksum`) and refuses
  a `source.checksum` beside a path; the release id is passed as `source.version`.

Every input forces a new build: a new tarball (its file name is its sha256), a new
release id, or another app. Heroku keeps past builds and releases (its rollback works on
them); deleting this resource only forgets the build.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumiverse_heroku as heroku


@dataclass
class HerokuBuildArgs:
    app_id: pulumi.Input[str]
    source_path: str
    """The source tarball, relative to where `pulumi up` runs (the project) when it lies inside it,
    so the same project builds the same inputs on any machine."""
    release_id: str
    """12 hex naming this source (the `X-Launchpad-Release` it answers with)."""
    after: Sequence[pulumi.Resource] = ()
    """What the release phase needs first: e.g. the database add-on, which sets DATABASE_URL."""


class HerokuBuild(pulumi.ComponentResource):
    """Builds and releases a source tarball on the app; the escape hatch is `build`."""

    build: heroku.build.Build
    release_id: str
    heroku_release: pulumi.Output[str]
    """Heroku's id of the release this build made."""

    def __init__(self, name: str, args: HerokuBuildArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("launchpad:heroku:Build", name, None, opts)
        if not re.fullmatch(r"[0-9a-f]{12}", args.release_id):
            raise ValueError(f"{name}: release id {args.release_id!r}: expected 12 hex (launchpad/render/heroku_source.py)")
        if not args.source_path.endswith(".tar.gz"):
            raise ValueError(f"{name}: source {args.source_path!r}: expected the .tar.gz built by launchpad/render/heroku_source.py")
        self.build = heroku.build.Build(
            f"{name}-build", app_id=args.app_id,
            source=heroku.build.BuildSourceArgs(path=args.source_path, version=args.release_id),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.after)))
        self.release_id = args.release_id
        self.heroku_release = self.build.release_id
        self.register_outputs({"heroku_release": self.heroku_release})
