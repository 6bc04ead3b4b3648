"""Key-level rules: namespace typos, provider credentials, reserved environment names."""

from __future__ import annotations

import pytest

from launchpad.safety.config_keys import namespace_typo, provider_credential, reserved_env


@pytest.mark.parametrize("namespace", ["lauchpad", "launchpd", "Launchpad", "LAUNCHPAD", "launchpads", "launcphad",
                                       "lunchpad", "launch-pad", "launchpad_"])
def test_near_misses_of_launchpad_are_typos(namespace: str) -> None:
    assert namespace_typo(namespace)


@pytest.mark.parametrize("namespace", ["launchpad", "aws", "digitalocean", "pulumi", "command", "launch", "pad", "lp"])
def test_other_namespaces_are_not(namespace: str) -> None:
    assert not namespace_typo(namespace)


@pytest.mark.parametrize("key", ["aws:accessKey", "aws:secretKey", "aws:token", "digitalocean:token",
                                 "digitalocean:spacesAccessId", "digitalocean:spacesSecretKey", "cloudflare:apiToken",
                                 "cloudflare:apiKey", "github:token", "hcloud:token", "myprovider:clientSecret"])
def test_provider_credentials(key: str) -> None:
    assert provider_credential(key)


@pytest.mark.parametrize("key", ["aws:region", "aws:profile", "aws:sharedCredentialsFiles", "aws:skipCredentialsValidation",
                                 "digitalocean:apiEndpoint", "digitalocean:spacesEndpoint", "launchpad:domain",
                                 "pulumi:template"])
def test_plain_provider_keys(key: str) -> None:
    assert not provider_credential(key)


@pytest.mark.parametrize("name", ["LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "PYTHONPATH", "PYTHONSTARTUP", "NOTIFY_SOCKET",
                                  "LISTEN_FDS", "LAUNCHPAD_RELEASE", "GUNICORN_CMD_ARGS", "HOME"])
def test_reserved_environment_names(name: str) -> None:
    assert reserved_env(name)


@pytest.mark.parametrize("name", ["DEBUG", "FLASK_ENV", "LOG_LEVEL", "DATABASE_URL", "PYTHONUNBUFFERED", "TZ", "LANG"])
def test_ordinary_environment_names(name: str) -> None:
    assert reserved_env(name) is None
