"""The auditor pages under `/ui` (server-rendered Jinja2, plain HTML and CSS, no script).

`routes` holds the router, sign-in and the record page; one module per page family registers
its routes on it: `home` (the projects), `listing` (records and samples), `registers`
(nonconformities, concessions), `trends` (charts drawn by `svg`), `releases`. `params` reads the
records filters every page keeps on its links; `queries` holds the page-side reads; `views` and
`facts` turn a record into what its page shows; `templates/` and `static/` are package data.
"""

from __future__ import annotations

# each page module registers its routes on the router
from gatekeeper.service.pages import home, listing, registers, releases, trends
from gatekeeper.service.pages.routes import COOKIE, router

__all__ = ["COOKIE", "home", "listing", "registers", "releases", "router", "trends"]
