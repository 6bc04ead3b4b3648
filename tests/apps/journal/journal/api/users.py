"""Users over JSON: a public profile, and one's own with the email address."""

from journal.api import bp
from journal.api.auth import token_auth
from journal.extensions import db
from journal.models import User


@bp.route("/users/<int:id>", methods=["GET"])
def get_user(id):
    return db.get_or_404(User, id).to_dict()


@bp.route("/me", methods=["GET"])
@token_auth.login_required
def get_me():
    return token_auth.current_user().to_dict(include_email=True)
