from conftest import login

from journal.models import User


def test_password_is_hashed(user):
    assert user.password_hash != "correct horse battery"
    assert user.check_password("correct horse battery")
    assert not user.check_password("wrong")


def test_register_then_login_then_logout(client, app):
    response = client.post(
        "/auth/register",
        data={"username": "tom", "email": "Tom@Example.com", "password": "s3cret-pass", "password2": "s3cret-pass"},
        follow_redirects=True,
    )
    assert b"now a registered user" in response.data
    with app.app_context():
        assert User.query.filter_by(username="tom").one().email == "tom@example.com"

    response = login(client, "tom", "s3cret-pass")
    assert b"Hi, tom!" in response.data

    response = client.get("/auth/logout", follow_redirects=True)
    assert b"logged out" in response.data


def test_register_refuses_a_taken_username_and_a_bad_email(client, user):
    response = client.post(
        "/auth/register",
        data={"username": "susan", "email": "not-an-email", "password": "s3cret-pass", "password2": "s3cret-pass"},
    )
    assert b"Please use a different username." in response.data
    assert b"Invalid email address." in response.data


def test_wrong_password_is_refused(client, user):
    response = login(client, "susan", "nope")
    assert b"Invalid username or password" in response.data


def test_login_ignores_an_offsite_next(client, user):
    response = client.post(
        "/auth/login?next=https://evil.example.com/",
        data={"username": "susan", "password": "correct horse battery"},
    )
    assert response.headers["Location"] == "/"


def test_reset_password_with_a_token(client, app, user):
    with app.test_request_context():
        token = user.get_token(purpose="reset_password")
        api_token = user.get_token()
    response = client.post(f"/auth/reset_password/{token}", data={"password": "brand-new-pass", "password2": "brand-new-pass"}, follow_redirects=True)
    assert b"has been reset" in response.data
    # An API token is not a reset token.
    response = client.get(f"/auth/reset_password/{api_token}", follow_redirects=True)
    assert b"invalid or has expired" in response.data
