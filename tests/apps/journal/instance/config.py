# A developer's local overrides (Flask's instance folder). Not part of any release:
# on a deployed host the instance folder is the app's persistent state directory.
SECRET_KEY = "instance-fake-secret-do-not-ship-1a2b3c4d"
MAIL_PASSWORD = "instance-fake-mail-password"
INSTANCE_CONFIG_LOADED = True
