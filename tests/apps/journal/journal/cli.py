"""`flask journal ...`: chores for operators (create a user, seed demo entries)."""

import click
import sqlalchemy as sa

from journal.extensions import db
from journal.models import MOODS, Entry, User


@click.group("journal")
def journal_cli():
    """Journal maintenance commands."""


@journal_cli.command("create-user")
@click.argument("username")
@click.argument("email")
@click.password_option()
def create_user(username, email, password):
    """Create a user account."""
    if db.session.scalar(sa.select(User).where(User.username == username)):
        raise click.ClickException(f"user {username!r} already exists")
    user = User(username=username, email=email.lower())
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"created user {username} (id {user.id})")


@journal_cli.command("seed")
@click.option("--entries", default=20, show_default=True, help="How many demo entries to write.")
@click.option("--username", default="demo", show_default=True)
def seed(entries, username):
    """Write demo entries for a (new or existing) user."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        user = User(username=username, email=f"{username}@journal.example.com")
        user.set_password("demo-password")
        db.session.add(user)
    for i in range(entries):
        db.session.add(Entry(title=f"Day {i + 1}", body=f"Seeded entry number **{i + 1}**.", mood=MOODS[i % len(MOODS)], author=user))
    db.session.commit()
    click.echo(f"seeded {entries} entries for {username}")
