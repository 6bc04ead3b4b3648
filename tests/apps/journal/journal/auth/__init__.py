"""Accounts: register, log in, log out, reset a forgotten password."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from journal.auth import routes  # noqa: E402,F401
