"""The auditor pages under `/ui` (server-rendered Jinja2, plain HTML and CSS, no script).

`routes` holds the router, sign-in and the record page; `home` the projects; `listing` the
records page; `registers` the nonconformities and concessions; `trends` the charts (drawn by
`svg`); `params`
the records filters every page keeps on its links; `queries` the page-side reads; `views` and
`facts` turn records into what the templates show; `templates/` and `static/` are package data.
"""

from __future__ import annotations

# each page module registers its routes on the router
from gatekeeper.service.pages import home, listing, registers, trends
from gatekeeper.service.pages.routes import COOKIE, router

__all__ = ["COOKIE", "home", "listing", "registers", "router", "trends"]
