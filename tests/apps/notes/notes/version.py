"""The application's own version. Bump it to cut a new release."""

APP_VERSION = "1.0.0"
