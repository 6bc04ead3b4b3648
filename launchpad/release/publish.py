"""A stack's release, from its settings: build the artifact, write the manifest, publish to a store.

    prepared = prepare(settings, out_dir, secrets)     # artifact + manifest (no I/O beyond out_dir)
    pointer = publish(store, prepared)                  # artifact, secrets, manifest, then the pointer

The pointer is written last, so a host polling the store never sees a desired release
whose manifest, artifact or secrets are not there yet. Secret values come in as a plain
map (the stack's `app.secrets` plus `LAUNCHPAD_SECRET_<NAME>` from the environment, see
`secrets_from_env`) and leave only towards the store's secret file; the manifest holds
their names and version.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from launchpad.release import static
from launchpad.release.artifact import Artifact, build
from launchpad.release.manifest import Manifest, Pointer, Secrets, new_manifest, secrets_version
from launchpad.release.store import Store

from launchpad.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from launchpad.settings import Settings

SECRET_ENV_PREFIX = "LAUNCHPAD_SECRET_"
"""`LAUNCHPAD_SECRET_SECRET_KEY=... launchpad local up` gives the app the secret SECRET_KEY."""
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
MASKED = "**********"
"""How pydantic's SecretStr serialises: a secret that did not travel with the settings JSON."""


BUILD_ROOT = PROJECT_ROOT / ".launchpad" / "build"
"""Where artifacts are built, per stack (git-ignored); the stamp cache there spares re-packing."""


def build_dir(stack: str) -> Path:
    return BUILD_ROOT / stack


def settings_json(settings: Settings) -> str:
    """The validated settings as `launchpad deploy --settings -` reads them: secret values masked."""
    return settings.model_dump_json(by_alias=True, exclude={"stack"})


class SecretsMissing(ValueError):
    """Declared secrets whose values this process was not given."""


def secrets_from_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    out = {}
    for key, value in env.items():
        if key.startswith(SECRET_ENV_PREFIX) and _ENV_NAME.match(key[len(SECRET_ENV_PREFIX):]):
            out[key[len(SECRET_ENV_PREFIX):]] = value
    return out


def stack_secrets(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The release's secret values: the stack's `app.secrets`, overridden and extended by the
    environment. A declared secret with no readable value (encrypted in `Pulumi.<stack>.yaml`,
    which only Pulumi can decrypt) must come from the environment."""
    given = secrets_from_env(environ)
    values: dict[str, str] = {}
    missing = []
    for name, secret in settings.app.secrets.items():
        value = secret.get_secret_value() if secret is not None else None
        if name in given:
            continue
        if value is None or value == MASKED:
            missing.append(name)
        else:
            values[name] = value
    if missing:
        names = ", ".join(sorted(missing))
        example = " ".join(f"{SECRET_ENV_PREFIX}{n}=..." for n in sorted(missing))
        raise SecretsMissing(
            f"app.secrets {names}: encrypted in Pulumi.{settings.stack}.yaml, which only Pulumi can decrypt; "
            f"run through `pulumi up`, or give the value(s) in the environment: {example} launchpad ...")
    return {**values, **given}


@dataclass(frozen=True)
class Prepared:
    artifact: Artifact
    manifest: Manifest
    secrets: Mapping[str, str]

    def __repr__(self) -> str:  # never print secret values
        return f"Prepared(release={self.manifest.id}, artifact={self.artifact.sha256[:12]}, secrets={sorted(self.secrets)})"


def prepare(settings: Settings, out_dir: Path, secrets: Mapping[str, str], created: str | None = None) -> Prepared:
    app = settings.app
    artifact = build(settings.app_path, out_dir)
    version = secrets_version(secrets, settings.stack)
    manifest = new_manifest(
        artifact=artifact.sha256, artifact_bytes=artifact.bytes, source_hash=artifact.source_hash,
        deps_hash=artifact.deps_hash, deps=artifact.deps, app=app.unix_name, module=app.module,
        env=dict(app.env), secrets=Secrets(version, tuple(sorted(secrets))), release_command=app.release,
        health_path=app.health_path, static=static.resolve(settings.app_path, app.module, app.static),
        writable=tuple(app.writable), workers=app.workers, threads=app.threads, keep=app.keep_releases,
        created=created)
    return Prepared(artifact, manifest, dict(secrets))


def publish(store: Store, prepared: Prepared) -> Pointer:
    store.put_artifact(prepared.artifact)
    store.put_secrets(prepared.manifest.secrets.version, prepared.secrets)
    store.put_manifest(prepared.manifest)
    return store.set_desired(prepared.manifest.id)
