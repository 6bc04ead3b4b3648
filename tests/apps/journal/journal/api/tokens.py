"""POST /api/tokens with basic auth returns a bearer token (a JWT signed with SECRET_KEY)."""

from flask import current_app

from journal.api import bp
from journal.api.auth import basic_auth


@bp.route("/tokens", methods=["POST"])
@basic_auth.login_required
def get_token():
    user = basic_auth.current_user()
    return {"token": user.get_token(), "expires_in": current_app.config["TOKEN_LIFETIME"]}
