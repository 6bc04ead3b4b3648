"""Password reset mail. Without MAIL_SERVER the link is logged instead of sent."""

from flask import current_app, render_template

from journal.email import send_email


def send_password_reset_email(user):
    token = user.get_token(purpose="reset_password", expires_in=600)
    send_email(
        "[Journal] Reset your password",
        recipients=[user.email],
        text_body=render_template("email/reset_password.txt", user=user, token=token),
        html_body=render_template("email/reset_password.html", user=user, token=token),
    )
    if not current_app.config.get("MAIL_SERVER"):
        current_app.logger.info("password reset requested for %s (no MAIL_SERVER: not sent)", user.username)
