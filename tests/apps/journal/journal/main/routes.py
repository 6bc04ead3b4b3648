"""Pages of the journal."""

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_login import current_user, login_required

from journal.extensions import cache, db
from journal.integrations import notify_new_entry
from journal.main import bp
from journal.main.forms import EditProfileForm, EmptyForm, EntryForm
from journal.models import Entry, User, utcnow


@bp.before_app_request
def before_request():
    if current_user.is_authenticated:
        current_user.last_seen = utcnow()
        db.session.commit()


def _page_of(query, endpoint, **kwargs):
    page = request.args.get("page", 1, type=int)
    pagination = db.paginate(query, page=page, per_page=current_app.config["ENTRIES_PER_PAGE"], error_out=False)
    next_url = url_for(endpoint, page=pagination.next_num, **kwargs) if pagination.has_next else None
    prev_url = url_for(endpoint, page=pagination.prev_num, **kwargs) if pagination.has_prev else None
    return pagination, next_url, prev_url


@bp.route("/index", methods=["GET", "POST"])
@bp.route("/", methods=["GET", "POST"])
def index():
    form = EntryForm() if current_user.is_authenticated else None
    if form is not None and form.validate_on_submit():
        entry = Entry(title=form.title.data, body=form.body.data, mood=form.mood.data or None, author=current_user)
        db.session.add(entry)
        db.session.commit()
        notify_new_entry(entry)
        flash(_("Your entry is saved."), "success")
        return redirect(url_for("main.index"))
    query = sa.select(Entry).order_by(Entry.created_at.desc(), Entry.id.desc())
    entries, next_url, prev_url = _page_of(query, "main.index")
    return render_template(
        "main/index.html", title=_("Home"), form=form, entries=entries.items, next_url=next_url, prev_url=prev_url
    )


@bp.route("/entry/<int:id>")
def entry(id):
    item = db.get_or_404(Entry, id)
    form = EmptyForm()
    return render_template("main/entry.html", title=item.title, entry=item, form=form)


@bp.route("/entry/<int:id>/delete", methods=["POST"])
@login_required
def delete_entry(id):
    item = db.get_or_404(Entry, id)
    if item.user_id != current_user.id:
        abort(403)
    form = EmptyForm()
    if form.validate_on_submit():
        db.session.delete(item)
        db.session.commit()
        flash(_("Entry deleted."), "info")
    return redirect(url_for("main.user", username=current_user.username))


@bp.route("/user/<username>")
def user(username):
    person = db.first_or_404(sa.select(User).where(User.username == username))
    entries, next_url, prev_url = _page_of(person.entries_query(), "main.user", username=username)
    return render_template(
        "main/user.html", title=person.username, user=person, entries=entries.items, next_url=next_url, prev_url=prev_url
    )


@bp.route("/edit_profile", methods=["GET", "POST"])
@login_required
def edit_profile():
    form = EditProfileForm()
    if form.validate_on_submit():
        current_user.about_me = form.about_me.data
        db.session.commit()
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("main.edit_profile"))
    if request.method == "GET":
        form.about_me.data = current_user.about_me
    return render_template("main/edit_profile.html", title=_("Edit profile"), form=form)


@bp.route("/about")
@cache.cached(timeout=60)
def about():
    counts = {
        "users": db.session.scalar(sa.select(sa.func.count(User.id))),
        "entries": db.session.scalar(sa.select(sa.func.count(Entry.id))),
    }
    return render_template("main/about.html", title=_("About"), counts=counts)
