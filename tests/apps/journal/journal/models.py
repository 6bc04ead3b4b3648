"""Database models: users (with hashed passwords) and their journal entries."""

from datetime import datetime, timezone

import jwt
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, url_for
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from journal.extensions import db, login
from journal.markup import render_markdown

MOODS = ["calm", "happy", "tired", "curious", "grumpy"]


def utcnow():
    """Naive UTC, as stored in the database and expected by Flask-Moment."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class User(UserMixin, db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    username: so.Mapped[str] = so.mapped_column(sa.String(64), index=True, unique=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(120), index=True, unique=True)
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(256))
    about_me: so.Mapped[str | None] = so.mapped_column(sa.String(280))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    last_seen: so.Mapped[datetime | None] = so.mapped_column(default=utcnow)

    entries: so.WriteOnlyMapped["Entry"] = so.relationship(back_populates="author", passive_deletes=True)

    def __repr__(self):
        return f"<User {self.username}>"

    def set_password(self, password):
        self.password_hash = generate_password_hash(password)

    def check_password(self, password):
        return self.password_hash is not None and check_password_hash(self.password_hash, password)

    def entries_query(self):
        return self.entries.select().order_by(Entry.created_at.desc())

    def entry_count(self):
        query = sa.select(sa.func.count()).select_from(self.entries.select().subquery())
        return db.session.scalar(query)

    def get_token(self, purpose="api", expires_in=None):
        """A signed JWT naming this user; `purpose` keeps API and reset tokens apart."""
        lifetime = expires_in or current_app.config["TOKEN_LIFETIME"]
        payload = {"sub": str(self.id), "purpose": purpose, "exp": int(datetime.now(timezone.utc).timestamp()) + lifetime}
        return jwt.encode(payload, current_app.config["SECRET_KEY"], algorithm="HS256")

    @staticmethod
    def verify_token(token, purpose="api"):
        try:
            payload = jwt.decode(token, current_app.config["SECRET_KEY"], algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        if payload.get("purpose") != purpose:
            return None
        return db.session.get(User, int(payload["sub"]))

    def to_dict(self, include_email=False):
        data = {
            "id": self.id,
            "username": self.username,
            "about_me": self.about_me,
            "created_at": self.created_at.isoformat(),
            "entry_count": self.entry_count(),
            "_links": {"self": url_for("api.get_user", id=self.id), "entries": url_for("api.list_entries", author=self.username)},
        }
        if include_email:
            data["email"] = self.email
        return data


class Entry(db.Model):
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(140))
    body: so.Mapped[str] = so.mapped_column(sa.Text)
    mood: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    created_at: so.Mapped[datetime] = so.mapped_column(index=True, default=utcnow)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey(User.id, ondelete="CASCADE"), index=True)

    author: so.Mapped[User] = so.relationship(back_populates="entries")

    def __repr__(self):
        return f"<Entry {self.id} {self.title!r}>"

    @property
    def body_html(self):
        return render_markdown(self.body)

    def to_dict(self):
        return {
            "id": self.id,
            "title": self.title,
            "body": self.body,
            "mood": self.mood,
            "created_at": self.created_at.isoformat(),
            "author": self.author.username,
            "_links": {"self": url_for("api.get_entry", id=self.id), "author": url_for("api.get_user", id=self.user_id)},
        }


@login.user_loader
def load_user(id):
    return db.session.get(User, int(id))
