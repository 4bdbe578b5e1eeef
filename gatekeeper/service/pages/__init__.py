"""The auditor pages under `/ui` (server-rendered Jinja2, plain HTML and CSS, no script).

`routes` holds the router, `queries` the page-side reads, `views` and `facts` turn records into
what the templates show; `templates/` and `static/` are package data.
"""

from __future__ import annotations

from gatekeeper.service.pages.routes import COOKIE, router

__all__ = ["COOKIE", "router"]
