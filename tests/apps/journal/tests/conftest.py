"""Fixtures: an app on an in-memory SQLite database, its test client, and a registered user."""

import pytest

from journal import create_app
from journal.extensions import db as _db
from journal.models import User


@pytest.fixture
def app():
    app = create_app("testing")
    with app.app_context():
        _db.create_all()
        yield app
        _db.session.remove()
        _db.drop_all()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user(app):
    person = User(username="susan", email="susan@example.com")
    person.set_password("correct horse battery")
    _db.session.add(person)
    _db.session.commit()
    return person


def login(client, username="susan", password="correct horse battery"):
    return client.post("/auth/login", data={"username": username, "password": password}, follow_redirects=True)
