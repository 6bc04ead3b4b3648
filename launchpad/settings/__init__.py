"""Launchpad's stack configuration: the model, its validation, loading and reference.

    model.py      the typed model: every key, its type, default and description
    checks.py     validate(): raw config -> Settings, every problem reported at once
    load.py       load_from_pulumi() (the program) / load_from_file() (the CLI)
    reference.py  the README's config reference, generated from the model
    errors.py     Problem and ConfigError

Provider facts (regions, sizes, limits) live in launchpad/providers.py; a Settings
reaches its provider's through `settings.profile`. Import from here
(`from launchpad.settings import Settings, validate`): the submodules are the
layout, not the interface.
"""

from launchpad.providers import PROFILES, PROVIDERS, ProviderProfile
from launchpad.settings.checks import PROVIDER_SECRET_KEYS, validate
from launchpad.settings.errors import ConfigError, Problem
from launchpad.settings.load import load_from_file, load_from_pulumi, stack_file
from launchpad.settings.model import NAMESPACE, PROJECT_ROOT, SAMPLE_APP, AppSettings, DatabaseSettings, Settings
from launchpad.settings.reference import reference_markdown

__all__ = [
    "NAMESPACE", "PROFILES", "PROJECT_ROOT", "PROVIDERS", "PROVIDER_SECRET_KEYS", "SAMPLE_APP",
    "AppSettings", "ConfigError", "DatabaseSettings", "Problem", "ProviderProfile", "Settings",
    "load_from_file", "load_from_pulumi", "reference_markdown", "stack_file", "validate",
]
