"""Sending mail off the request thread, so a slow SMTP server does not hold a worker."""

from threading import Thread

from flask import current_app
from flask_mail import Message

from journal.extensions import mail


def _send_async(app, msg):
    with app.app_context():
        try:
            mail.send(msg)
        except OSError:
            app.logger.exception("mail to %s failed", ", ".join(msg.recipients))


def send_email(subject, recipients, text_body, html_body, sync=False):
    app = current_app._get_current_object()
    if not app.config.get("MAIL_SERVER") and not app.testing:
        return None
    msg = Message(subject, recipients=recipients, body=text_body, html=html_body)
    if sync:
        mail.send(msg)
        return None
    thread = Thread(target=_send_async, args=(app, msg), daemon=True)
    thread.start()
    return thread
