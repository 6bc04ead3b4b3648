"""Which folders Nginx serves directly as static files, as URL prefix -> folder inside the app.

Given `app.static`, that map (normalised: prefixes `/x/`, folders `dir/`). Else Flask's own
default, found the way Flask finds it: the app object's root is the folder of the module
that created it, so for `journal:create_app()` with a package `journal/` that is
`journal/static/`, for `rocket:app` from `rocket.py` it is `static/` beside it. Both are
served at `/static/`, Flask's default `static_url_path`, so `url_for('static', ...)` URLs
are unchanged. No folder found: nothing is served statically (Flask still serves them).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path

FLASK_PREFIX = "/static/"


def top_module(module: str) -> str:
    """`journal.wsgi:create_app('x')` -> `journal`."""
    return module.split(":", 1)[0].split(".", 1)[0]


def normalise(static: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for prefix, folder in static.items():
        prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
        folder = posixpath.normpath(folder.strip("/")) + "/"
        out[prefix] = folder
    return dict(sorted(out.items()))


def detect(app_root: Path, module: str) -> dict[str, str]:
    top = top_module(module)
    package = app_root / top
    if (package / "__init__.py").is_file():
        return {FLASK_PREFIX: f"{top}/static/"} if (package / "static").is_dir() else {}
    return {FLASK_PREFIX: "static/"} if (app_root / "static").is_dir() else {}


def resolve(app_root: Path, module: str, configured: Mapping[str, str] | None) -> dict[str, str]:
    """The static map for the manifest: `app.static` when set (even empty: `{}` turns it off), else detected."""
    if configured is not None:
        return normalise(configured)
    return detect(app_root, module)
