"""Log handlers for a deployed app: a rotating file in logs/ (relative to the working directory,
as many Flask apps do), or stdout when LOG_TO_STDOUT is set (systemd, containers, Heroku).
Errors are also mailed to the admins when a mail server is configured.
"""

import logging
import os
import sys
from logging.handlers import RotatingFileHandler, SMTPHandler

from flask.logging import default_handler

LOG_FORMAT = "%(asctime)s %(levelname)s: %(message)s [in %(pathname)s:%(lineno)d]"


def configure_logging(app):
    if app.config.get("MAIL_SERVER"):
        auth = None
        if app.config.get("MAIL_USERNAME") or app.config.get("MAIL_PASSWORD"):
            auth = (app.config["MAIL_USERNAME"], app.config["MAIL_PASSWORD"])
        mail_handler = SMTPHandler(
            mailhost=(app.config["MAIL_SERVER"], app.config["MAIL_PORT"]),
            fromaddr=app.config["MAIL_DEFAULT_SENDER"],
            toaddrs=app.config["ADMINS"],
            subject="Journal failure",
            credentials=auth,
            secure=() if app.config.get("MAIL_USE_TLS") else None,
        )
        mail_handler.setLevel(logging.ERROR)
        app.logger.addHandler(mail_handler)

    if app.config.get("LOG_TO_STDOUT"):
        handler = logging.StreamHandler(sys.stdout)
    else:
        try:
            os.makedirs("logs", exist_ok=True)
            handler = RotatingFileHandler("logs/journal.log", maxBytes=1024 * 1024, backupCount=10)
        except OSError as exc:
            raise RuntimeError(
                f"cannot write the log file {os.path.abspath('logs/journal.log')} ({exc.strerror}): "
                "make logs/ writable or set LOG_TO_STDOUT=1"
            ) from exc
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    app.logger.removeHandler(default_handler)  # or every line would be logged twice
    handler.setLevel(logging.INFO)
    app.logger.addHandler(handler)
    app.logger.setLevel(logging.INFO)
