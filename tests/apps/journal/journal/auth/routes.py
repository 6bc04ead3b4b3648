"""Account views."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import _
from flask_login import current_user, login_user, logout_user

from journal.auth import bp
from journal.auth.email import send_password_reset_email
from journal.auth.forms import LoginForm, RegistrationForm, ResetPasswordForm, ResetPasswordRequestForm
from journal.extensions import db
from journal.models import User


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.username == form.username.data))
        if user is None or not user.check_password(form.password.data):
            flash(_("Invalid username or password"), "danger")
            return redirect(url_for("auth.login"))
        login_user(user, remember=form.remember_me.data)
        current_app.logger.info("login: %s", user.username)
        next_page = request.args.get("next")
        # Only local paths: an absolute `next` would make this an open redirect.
        if not next_page or urlsplit(next_page).netloc != "" or not next_page.startswith("/"):
            next_page = url_for("main.index")
        return redirect(next_page)
    return render_template("auth/login.html", title=_("Sign in"), form=form)


@bp.route("/logout")
def logout():
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        user = User(username=form.username.data, email=form.email.data.lower())
        user.set_password(form.password.data)
        db.session.add(user)
        db.session.commit()
        current_app.logger.info("registered: %s", user.username)
        flash(_("Congratulations, you are now a registered user!"), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/register.html", title=_("Register"), form=form)


@bp.route("/reset_password_request", methods=["GET", "POST"])
def reset_password_request():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = ResetPasswordRequestForm()
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.email == form.email.data.lower()))
        if user:
            send_password_reset_email(user)
        # The same answer whether or not the address is known.
        flash(_("Check your email for the instructions to reset your password"), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password_request.html", title=_("Reset password"), form=form)


@bp.route("/reset_password/<token>", methods=["GET", "POST"])
def reset_password(token):
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    user = User.verify_token(token, purpose="reset_password")
    if not user:
        flash(_("That reset link is invalid or has expired."), "danger")
        return redirect(url_for("main.index"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user.set_password(form.password.data)
        db.session.commit()
        flash(_("Your password has been reset."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)
