"""Renderers: Facts and Verdicts as terminal text and Markdown."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gatekeeper.render.facts_text import facts_as_text
    from gatekeeper.render.markdown import verdict_markdown
    from gatekeeper.render.text import render_verdict, verdict_text

# Imported on first use, so that importing one light module does not load the whole package.
_EXPORTS = {
    "facts_as_text": "gatekeeper.render.facts_text",
    "verdict_markdown": "gatekeeper.render.markdown",
    "render_verdict": "gatekeeper.render.text",
    "verdict_text": "gatekeeper.render.text",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["facts_as_text", "render_verdict", "verdict_markdown", "verdict_text"]
