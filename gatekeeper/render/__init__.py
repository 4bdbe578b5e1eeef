"""Renderers: Facts and Verdicts as terminal text and Markdown."""

from gatekeeper.render.facts_text import facts_as_text
from gatekeeper.render.markdown import verdict_markdown
from gatekeeper.render.text import render_verdict, verdict_text

__all__ = ["facts_as_text", "render_verdict", "verdict_markdown", "verdict_text"]
