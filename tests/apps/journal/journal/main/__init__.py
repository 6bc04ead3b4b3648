"""The journal itself: the entry list, writing entries, user pages and profiles."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from journal.main import routes  # noqa: E402,F401
