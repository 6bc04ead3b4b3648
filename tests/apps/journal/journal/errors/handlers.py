"""404/403/500 pages; JSON for clients that ask for it."""

from flask import render_template, request

from journal.extensions import db
from journal.errors import bp


def wants_json_response():
    return request.accept_mimetypes["application/json"] >= request.accept_mimetypes["text/html"]


@bp.app_errorhandler(403)
def forbidden(error):
    if wants_json_response():
        return {"error": "Forbidden"}, 403
    return render_template("errors/403.html"), 403


@bp.app_errorhandler(404)
def not_found_error(error):
    if wants_json_response():
        return {"error": "Not Found"}, 404
    return render_template("errors/404.html"), 404


@bp.app_errorhandler(500)
def internal_error(error):
    db.session.rollback()
    if wants_json_response():
        return {"error": "Internal Server Error"}, 500
    return render_template("errors/500.html"), 500
