"""`--pipeline ID` on GitLab: the jobs' report files read from their artifacts archives."""

from __future__ import annotations

import json

from connectors.interface import RetryPolicy
from tests.cli import run_gatekeeper
from tests.connectors.conftest import FAST_RETRIES, TOKEN, gitlab_client
from tests.connectors.test_run_artifacts import EXAMPLES, reports_zip, zipped
from tests.fakes.github import BlobStore
from tests.fakes.gitlab import FakeGitLab


def test_pipeline_job_reports_give_line_coverage_and_full_failures(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """A job's junit and cobertura files give line-level coverage and the failing tests' text."""
    fake_gitlab.add_report_job("rspec-reports", reports_zip("failing"))
    collector = gitlab_client(fake_gitlab, policy).collector(fake_gitlab.number, pipeline=46)
    facts = collector.collect()
    assert facts.coverage is not None
    assert facts.coverage.lines_valid is not None
    assert facts.coverage.lines_valid > 0
    assert "coverage.lines_valid" not in facts.missing
    assert facts.tests is not None
    assert facts.tests.failures
    assert any("rspec-reports" in s.location for s in facts.sources)
    assert fake_gitlab.count("GET", "/jobs/") == 3  # each job declaring reports (corpus jobs too)
    assert fake_gitlab.count("GET", "/pipelines/46/test_report") == 1


def test_job_without_archive_keeps_the_pipeline_report(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """Reports not in artifacts:paths cannot be downloaded: the pipeline's own report stays."""
    fake_gitlab.add_report_job("rspec", None)
    facts = gitlab_client(fake_gitlab, policy).collector(fake_gitlab.number, pipeline=46).collect()
    assert facts.tests is not None
    assert facts.tests.total == fake_gitlab.test_report["total_count"]
    assert "coverage.lines_valid" in facts.missing


def test_zip_slip_in_a_job_archive_is_refused_by_the_command(fake_gitlab: FakeGitLab) -> None:
    """A job archive with a member escaping its folder ends `collect` with exit 2."""
    data = (EXAMPLES / "passing" / "junit.xml").read_bytes()
    fake_gitlab.add_report_job("evil", zipped({"../../junit.xml": data}))
    result = run_gatekeeper(
        "collect", "--provider", "gitlab", "--api-url", fake_gitlab.server_url,
        "--repo", fake_gitlab.repo, "--pr", str(fake_gitlab.number), "--pipeline", "46",
        "--format", "json",
        env={**FAST_RETRIES, "GITLAB_TOKEN": TOKEN},
    )  # fmt: skip
    assert result.returncode == 2
    assert "zip-slip" in result.stderr


def test_collect_pipeline_prints_the_job_reports(fake_gitlab: FakeGitLab) -> None:
    """`collect --pipeline` prints coverage measured per line from the job's report file."""
    fake_gitlab.add_report_job("rspec-reports", reports_zip())
    result = run_gatekeeper(
        "collect", "--provider", "gitlab", "--api-url", fake_gitlab.server_url,
        "--repo", fake_gitlab.repo, "--pr", str(fake_gitlab.number), "--pipeline", "46",
        "--format", "json",
        env={**FAST_RETRIES, "GITLAB_TOKEN": TOKEN},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["coverage"]["lines_covered"] > 0


def test_archive_redirected_to_object_storage_gets_no_token(
    fake_gitlab: FakeGitLab, policy: RetryPolicy
) -> None:
    """gitlab.com answers the archive with a redirect to its CDN: PRIVATE-TOKEN stays behind."""
    with BlobStore() as store:
        fake_gitlab.object_store = store
        job = fake_gitlab.add_report_job("rspec-reports", reports_zip())
        collector = gitlab_client(fake_gitlab, policy).collector(fake_gitlab.number, pipeline=46)
        facts = collector.collect()
        assert facts.coverage is not None
        assert facts.coverage.lines_covered
        assert store.count("GET", "/blobs/") == 1
        assert store.authorization_headers() == []
    [api] = [r for r in fake_gitlab.requests if r.path.endswith(f"/jobs/{job['id']}/artifacts")]
    assert api.headers["private-token"] == TOKEN
