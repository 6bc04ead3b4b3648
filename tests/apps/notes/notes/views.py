"""The one page: a form to add a note, and the list of notes, newest first."""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from notes.db import get_db

bp = Blueprint("notes", __name__)

MAX_LENGTH = 2000


@bp.route("/", methods=("GET", "POST"))
def index():
    if request.method == "POST":
        body = request.form.get("body", "").strip()
        if not body:
            flash("A note needs some text.")
        elif len(body) > MAX_LENGTH:
            flash(f"A note holds at most {MAX_LENGTH} characters.")
        else:
            db = get_db()
            db.execute("INSERT INTO note (body) VALUES (?)", (body,))
            db.commit()
            return redirect(url_for("notes.index"))
    notes = get_db().execute("SELECT id, created, body FROM note ORDER BY created DESC, id DESC LIMIT 100").fetchall()
    return render_template("index.html", notes=notes)
