"""Entries over JSON: list (public, paginated, filterable), read, create (token)."""

import sqlalchemy as sa
from dateutil import parser as dateparser
from flask import request, url_for

from journal.api import bp
from journal.api.auth import token_auth
from journal.api.errors import bad_request
from journal.extensions import db
from journal.integrations import notify_new_entry
from journal.models import MOODS, Entry, User


@bp.route("/entries", methods=["GET"])
def list_entries():
    page = request.args.get("page", 1, type=int)
    per_page = min(request.args.get("per_page", 10, type=int), 100)
    query = sa.select(Entry).order_by(Entry.created_at.desc(), Entry.id.desc())
    author = request.args.get("author")
    if author:
        query = query.join(Entry.author).where(User.username == author)
    since = request.args.get("since")
    if since:
        try:
            query = query.where(Entry.created_at >= dateparser.isoparse(since).replace(tzinfo=None))
        except ValueError:
            return bad_request(f"since={since!r} is not an ISO 8601 date or time")
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    return {
        "items": [item.to_dict() for item in pagination.items],
        "_meta": {"page": page, "per_page": per_page, "total_pages": pagination.pages, "total_items": pagination.total},
        "_links": {
            "self": url_for("api.list_entries", page=page, per_page=per_page),
            "next": url_for("api.list_entries", page=page + 1, per_page=per_page) if pagination.has_next else None,
        },
    }


@bp.route("/entries/<int:id>", methods=["GET"])
def get_entry(id):
    return db.get_or_404(Entry, id).to_dict()


@bp.route("/entries", methods=["POST"])
@token_auth.login_required
def create_entry():
    data = request.get_json(silent=True) or {}
    title, body, mood = data.get("title"), data.get("body"), data.get("mood")
    if not title or not body:
        return bad_request("title and body are required")
    if mood is not None and mood not in MOODS:
        return bad_request(f"mood={mood!r} is not one of {', '.join(MOODS)}")
    entry = Entry(title=str(title)[:140], body=str(body), mood=mood, author=token_auth.current_user())
    db.session.add(entry)
    db.session.commit()
    notify_new_entry(entry)
    return entry.to_dict(), 201, {"Location": url_for("api.get_entry", id=entry.id)}
