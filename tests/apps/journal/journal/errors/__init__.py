"""Error pages for the HTML side (the API answers its own errors as JSON)."""

from flask import Blueprint

bp = Blueprint("errors", __name__)

from journal.errors import handlers  # noqa: E402,F401
