"""HTTP authentication for the API: a username and password for /api/tokens, bearer tokens elsewhere."""

import sqlalchemy as sa
from flask_httpauth import HTTPBasicAuth, HTTPTokenAuth

from journal.api.errors import error_response
from journal.extensions import db
from journal.models import User

basic_auth = HTTPBasicAuth()
token_auth = HTTPTokenAuth()


@basic_auth.verify_password
def verify_password(username, password):
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user and user.check_password(password):
        return user
    return None


@basic_auth.error_handler
def basic_auth_error(status):
    return error_response(status)


@token_auth.verify_token
def verify_token(token):
    return User.verify_token(token) if token else None


@token_auth.error_handler
def token_auth_error(status):
    return error_response(status)
