"""/healthz runs a query against SQLite; /version says which build and release this is."""

import os
import sqlite3

from flask import Blueprint, jsonify

from notes.db import get_db
from notes.version import APP_VERSION

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    try:
        count = get_db().execute("SELECT COUNT(*) FROM note").fetchone()[0]
    except sqlite3.Error as exc:
        return jsonify(status="error", database=f"error: {exc}"), 503
    return jsonify(status="ok", database="ok", notes=count)


@bp.route("/version")
def version():
    return jsonify(app="notes", version=APP_VERSION, release=os.environ.get("LAUNCHPAD_RELEASE"))
