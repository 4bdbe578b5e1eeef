"""The provider table is the one list of code hosts: the CLI, targets and tokens read it."""

from __future__ import annotations

import pytest

from connectors.providers import PROVIDERS, resolve_target
from gatekeeper.errors import UsageError
from tests.cli import run_gatekeeper


def test_provider_flag_offers_exactly_the_table() -> None:
    """`--provider` accepts the table's names and refuses others, naming the choices."""
    assert set(PROVIDERS) == {"github", "gitlab"}
    result = run_gatekeeper("collect", "--provider", "gitea", "--repo", "a/b", "--pr", "1")
    assert result.returncode == 2
    flat = " ".join(result.stderr.replace("│", " ").split())
    assert "'gitea' is not one of 'github', 'gitlab'" in flat


@pytest.mark.parametrize(
    ("name", "env", "api", "job_token"),
    [
        ("github", {"GITHUB_TOKEN": "ghp-x"}, "https://api.github.com", False),
        ("gitlab", {"GITLAB_TOKEN": "glpat-x"}, "https://gitlab.com", False),
        ("gitlab", {"CI_JOB_TOKEN": "job-x"}, "https://gitlab.com", True),
    ],
)
def test_targets_take_api_url_and_token_from_the_entry(
    name: str, env: dict[str, str], api: str, job_token: bool
) -> None:
    """The default API URL and the token (and whether it is a CI job's own) come from the
    provider's entry."""
    target = resolve_target(name, repo="a/b", number=1, env=env)
    assert target.api_url == api
    assert target.token is not None
    assert target.job_token is job_token
    assert target.entry is PROVIDERS[name]


def test_no_provider_and_no_ci_names_every_choice() -> None:
    """Outside CI without --provider the sentence lists every provider of the table."""
    with pytest.raises(UsageError, match="give --provider github or --provider gitlab"):
        resolve_target(None, repo="a/b", number=1, env={})
