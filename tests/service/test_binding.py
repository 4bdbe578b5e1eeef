"""Binding (DESIGN, "Evidence the service vouches for"): a statement's subject names the project
it is submitted to, and project names are validated at ingest and in queries, on SQLite and
PostgreSQL; a refused statement leaves the log as it was."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from gatekeeper.service.auth import create_token
from gatekeeper.service.pages import COOKIE
from gatekeeper.service.tables import RecordRow
from tests.service.conftest import Tokens, bearer
from tests.service.live import ApiClient, statement

PROJECT = "acme/widget"


def _about(name: str, n: int = 0) -> dict[str, Any]:
    stated = statement(n)
    stated["subject"] = [{**stated["subject"][0], "name": name}]
    return stated


def _log_size(api: ApiClient, app: FastAPI, tokens: Tokens) -> tuple[int, int]:
    """The signed checkpoint's size and the number of stored records."""
    checkpoint = api.get("/v1/log/checkpoint", headers=bearer(tokens.read))
    assert checkpoint.status_code == 200, checkpoint.text
    with app.state.gatekeeper.engine.connect() as connection:
        rows = connection.execute(select(func.count()).select_from(RecordRow.__table__)).scalar()
    return int(checkpoint.json()["size"]), int(rows or 0)


def _post(api: ApiClient, token: str, project: str, stated: dict[str, Any]) -> Any:
    return api.post(
        "/v1/evidence", json={"project": project, "statement": stated}, headers=bearer(token)
    )


@pytest.mark.parametrize(
    "name",
    [
        PROJECT,
        "git+https://github.com/acme/widget",
        "https://github.com/acme/widget",
        "https://github.com/acme/widget.git",
        "git+https://gitlab.example:8443/acme/widget.git",
    ],
)
def test_a_subject_naming_the_project_is_stored(api: ApiClient, tokens: Tokens, name: str) -> None:
    """The project itself or a repository URI whose path is the project binds the statement."""
    response = _post(api, tokens.ingest, PROJECT, _about(name))
    assert response.status_code == 201, response.text


def test_a_statement_about_another_project_is_refused_and_not_stored(
    api: ApiClient, app: FastAPI, tokens: Tokens
) -> None:
    """An acme/widget token cannot get a signed record whose subject is other/secret (422)."""
    assert _post(api, tokens.ingest, PROJECT, _about(PROJECT, 1)).status_code == 201
    before = _log_size(api, app, tokens)
    strays = [
        "other/secret",
        "acme/widget2",
        "acme/widget/extra",
        "ACME/widget",
        "https://github.com/other/secret",
        "https://github.com/acme/widget/tree/main",
        "https://github.com/acme/widget?x=1",
        "https://github.com/acme/widget#frag",
        "https://user@github.com/acme/widget",
        "https://github.com:notaport/acme/widget",
        "http://github.com/acme/widget",
        "git+ssh://github.com/acme/widget",
        "https:///acme/widget",
        "https://github.com/acme%2Fwidget",
        "widget",
    ]
    for n, name in enumerate(strays, start=2):
        response = _post(api, tokens.ingest, PROJECT, _about(name, n))
        assert response.status_code == 422, (name, response.text)
        error = response.json()["error"]
        assert error["code"] == "subject_not_project", name
        assert "does not name project acme/widget" in error["message"]
    assert _log_size(api, app, tokens) == before


def test_every_subject_must_name_the_project(api: ApiClient, app: FastAPI, tokens: Tokens) -> None:
    """A second subject about another project is refused too: each subject is vouched for."""
    assert _post(api, tokens.ingest, PROJECT, _about(PROJECT, 1)).status_code == 201
    before = _log_size(api, app, tokens)
    stated = statement(2)
    stated["subject"].append({"name": "other/secret", "digest": {"gitCommit": "a" * 40}})
    response = _post(api, tokens.ingest, PROJECT, stated)
    assert response.status_code == 422, response.text
    assert "'other/secret'" in response.json()["error"]["message"]
    assert _log_size(api, app, tokens) == before


def test_a_project_the_token_does_not_cover_is_403_before_the_binding(
    api: ApiClient, tokens: Tokens
) -> None:
    """Submitting to another project is the token's refusal (403), whatever the subject says."""
    response = _post(api, tokens.ingest, "other/secret", _about("other/secret"))
    assert response.status_code == 403


def test_gitlab_groups_bind_and_are_valid_names(app: FastAPI, api: ApiClient) -> None:
    """`group/subgroup/name` is a project, and its repository URI names it."""
    project = "group/sub.group/my-project_1"
    token = create_token(app.state.gatekeeper.engine, ["ingest"], [project])[0]
    for n, name in enumerate((project, f"https://gitlab.example/{project}.git")):
        response = _post(api, token, project, _about(name, n))
        assert response.status_code == 201, response.text


BAD_PROJECTS = [
    "no slash",
    "acme",
    "acme/",
    "/widget",
    "acme//widget",
    "acme/widget,other/thing",
    "acme/*",
    "*",
    "acme/wid get",
    "acme/../secret",
    "acme/./widget",
    "acme/a..b",
    "acme/widget\n",
    "a/" + "b" * 200,
]


@pytest.mark.parametrize("project", BAD_PROJECTS)
def test_ingest_refuses_a_project_that_is_not_a_name(
    api: ApiClient, tokens: Tokens, project: str
) -> None:
    """422 with a sentence naming the field, never a 500 or a stored record."""
    response = _post(api, tokens.admin, project, _about(project))
    assert response.status_code == 422, response.text
    message = response.json()["error"]["message"]
    assert message.startswith("the request body is invalid at project: project "), message
    assert "Value error" not in message


@pytest.mark.parametrize("project", BAD_PROJECTS)
def test_queries_refuse_a_project_that_is_not_a_name(
    api: ApiClient, tokens: Tokens, project: str
) -> None:
    """`?project=` of the record query and the export answers 422 with the reason."""
    for path in ("/v1/evidence", "/v1/export"):
        response = api.get(path, params={"project": project}, headers=bearer(tokens.admin))
        assert response.status_code == 422, (path, response.text)
        message = response.json()["error"]["message"]
        assert message.startswith("the request is invalid: "), message
        assert "project" in message, message


def test_pages_refuse_a_project_that_is_not_a_name(api: ApiClient, tokens: Tokens) -> None:
    """The auditor pages' filter and export say what is wrong with the name (422)."""
    login = api.post("/ui/login", data={"token": tokens.admin})
    cookie = {"Cookie": f"{COOKIE}={login.cookies[COOKIE]}"}
    for path in ("/ui/records", "/ui/export"):
        response = api.get(path, params={"project": "acme/*"}, headers=cookie)
        assert response.status_code == 422, (path, response.text[:300])
        assert "project: project &#39;acme/*&#39; is not owner/name" in response.text


def _described(subject: dict[str, Any], n: int) -> dict[str, Any]:
    stated = statement(n)
    stated["subject"] = [{"digest": stated["subject"][0]["digest"], **subject}]
    return stated


def test_subjects_as_other_in_toto_tools_write_them_bind_by_name_and_uri(
    api: ApiClient, tokens: Tokens
) -> None:
    """A subject with `uri`, `annotations`, `mediaType` or no meaningful name (`_`) is stored
    when its name and uri name the project; the stored statement keeps those fields."""
    accepted: list[dict[str, Any]] = [
        {"name": PROJECT, "uri": "git+https://github.com/acme/widget", "annotations": {"k": [1]}},
        {"uri": "https://gitlab.example/acme/widget.git", "mediaType": "text/x-git"},
        {"name": "_", "uri": "git+https://github.com/acme/widget", "downloadLocation": "x"},
    ]
    for n, subject in enumerate(accepted):
        response = _post(api, tokens.ingest, PROJECT, _described(subject, n))
        assert response.status_code == 201, (subject, response.text)
        stored = api.get(f"/v1/evidence/{response.json()['id']}", headers=bearer(tokens.read))
        signed = json.loads(base64.b64decode(stored.json()["envelope"]["payload"]))
        assert signed["subject"] == [{**subject, "digest": {"gitCommit": f"{n:040x}"}}]


@pytest.mark.parametrize(
    "subject",
    [
        {"name": PROJECT, "uri": "https://github.com/other/secret"},
        {"name": "other/secret", "uri": "https://github.com/acme/widget"},
        {"name": "_"},
        {"annotations": {"project": PROJECT}},
    ],
)
def test_a_subject_whose_name_or_uri_names_another_project_is_refused(
    api: ApiClient, tokens: Tokens, subject: dict[str, Any]
) -> None:
    """Every identifier a subject carries must name the project, and it must carry one: a
    uri of another project beside the right name (or none at all) is refused (422)."""
    response = _post(api, tokens.ingest, PROJECT, _described(subject, 9))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "subject_not_project"
    assert "name project acme/widget" in error["message"]
