"""Launchpad's Pulumi program: read the stack's settings, hand them to its provider's stack.

Only the selected provider's stack module (and so its SDK) is imported.
"""

import importlib

from launchpad.settings import load_from_pulumi

settings = load_from_pulumi()
importlib.import_module(f"stacks.{settings.provider}").build(settings)
