"""The one Jinja2 environment over files/, the host templates.

Strict: a template naming a value the renderer did not pass fails at render time
instead of writing an empty string onto the host. No autoescape: the output is
config files and scripts, never HTML (each renderer quotes for its target).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

FILES = Path(__file__).resolve().parent.parent.parent / "files"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(FILES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render_template(template: str, **values: object) -> str:
    """Renders files/<template> with `values`."""
    return environment().get_template(template).render(**values)
