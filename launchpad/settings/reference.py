"""The README's config reference, generated from the model so the two cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from launchpad.providers import PROVIDERS
from launchpad.settings.model import NAMESPACE, PROJECT_ROOT, AppSettings, AutoscaleSettings, DatabaseSettings, Settings


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    for junk in ("typing.", "pathlib.", "launchpad.settings.model.", "launchpad.settings."):
        text = text.replace(junk, "")
    text = re.sub(r"<class '([\w.]+)'>", r"\1", text)
    text = text.replace("pydantic.types.SecretStr", "secret")
    text = re.sub(r"Literal\[(.*)\]", lambda m: " / ".join(v.strip().strip("'") for v in m.group(1).split(",")), text)
    text = text.replace(" | None", ", optional").replace("AppSettings", "object").replace("DatabaseSettings", "object")
    text = text.replace("AutoscaleSettings", "object")
    return text.replace("Path", "path")


def reference_markdown() -> str:
    """The README's config reference, generated from the model so the two cannot drift."""
    rows = ["| key | type | default | description |", "|---|---|---|---|"]

    def add(prefix: str, model: type[BaseModel]) -> None:
        for name, f in model.model_fields.items():
            if f.exclude:
                continue
            key = f"{prefix}{f.alias or name}"
            # The provider is a str checked against the catalog; show the choices.
            ann = " / ".join(PROVIDERS) if model is Settings and name == "provider" else _type_name(f.annotation)
            default = f.get_default(call_default_factory=True) if not f.is_required() else None
            if f.is_required():
                default_text = "required"
            elif isinstance(default, BaseModel):
                default_text = "see below"
            elif isinstance(default, Path):
                default_text = f"`{default.relative_to(PROJECT_ROOT)}`"
            else:
                default_text = f"`{json.dumps(default)}`"
            rows.append(f"| `{NAMESPACE}:{key}` | {ann} | {default_text} | {f.description} |")

    add("", Settings)
    add("app.", AppSettings)
    add("database.", DatabaseSettings)
    add("autoscale.", AutoscaleSettings)
    return "\n".join(rows)
