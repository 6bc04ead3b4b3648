"""Operational endpoints: /healthz (is the database answering?) and /version (which build is this?).

Neither needs a login, a session or CSRF; both answer JSON.
"""

import os

import sqlalchemy as sa
from flask import Blueprint, jsonify

from journal.extensions import db
from journal.version import APP_VERSION

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return jsonify(status="error", database=f"error: {type(exc).__name__}"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/version")
def version():
    return jsonify(
        app="journal",
        version=APP_VERSION,
        release=os.environ.get("LAUNCHPAD_RELEASE"),
        database=db.engine.dialect.name,
    )
