"""JSON API: tokens (basic auth), entries and users (token auth). No cookies, so no CSRF."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from journal.api import entries, errors, tokens, users  # noqa: E402,F401
