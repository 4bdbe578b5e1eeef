"""The reports of a GitHub Actions workflow run, pulled from its artifacts.

`GET /repos/{owner}/{repo}/actions/runs/{id}` (head commit, branch, pull requests) and its
`/artifacts` (paginated, through PyGithub); each artifact whose name matches the glob is downloaded
from `/actions/artifacts/{id}/zip`, whose 302 to the blob store is followed without the token, and
read by `connectors._artifacts`. An expired or deleted artifact is a missing fact with its reason.
"""

from __future__ import annotations

import fnmatch
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors import _artifacts
from connectors._http import counting_session
from connectors.interface import ProviderError
from gatekeeper.facts import Facts, Source, Subject
from gatekeeper.reports import ParsedReport, reports_to_facts

if TYPE_CHECKING:
    from connectors.github import GitHub

_SECTIONS = ("tests", "coverage")


@dataclass(frozen=True)
class RunHead:
    """What a workflow run was about: its head commit and branch, and the PR of that head."""

    run_id: int
    commit: str
    branch: str | None
    pull_number: int | None


class GitHubRunCollector:
    """Facts (tests, coverage, subject) from the report files in one workflow run's artifacts."""

    def __init__(
        self,
        gh: GitHub,
        run_id: int,
        *,
        pattern: str = "*",
        limits: _artifacts.ZipLimits | None = None,
        max_report_bytes: int = 512 * 1024 * 1024,
    ) -> None:
        self._gh = gh
        self._run_id = run_id
        self._pattern = pattern
        self._limits = limits or _artifacts.ZipLimits()
        self._max_report_bytes = max_report_bytes
        self._run: Any = None

    def head(self) -> RunHead:
        """The run's head commit and branch, and the pull request whose head it is (if any)."""
        gh = self._gh
        with gh.translate(f"reading workflow run {self._run_id}", "actions: read"):
            if self._run is None:
                self._run = gh.repo.get_workflow_run(self._run_id)
            run = self._run
            sha, branch = str(run.head_sha), run.head_branch
            number = next((p.number for p in run.pull_requests if p.head.sha == sha), None)
            if number is None and run.event == "pull_request" and run.head_repository:
                owner = run.head_repository.owner.login
                found = gh.repo.get_pulls(state="open", head=f"{owner}:{branch}")
                number = next((p.number for p in found if p.head.sha == sha), None)
        return RunHead(self._run_id, sha, branch, number)

    def collect(self) -> Facts:
        """Tests and coverage from the matching artifacts; missing with a reason when none."""
        head = self.head()
        gh = self._gh
        with gh.translate(f"listing the artifacts of workflow run {self._run_id}", "actions: read"):
            listed = list(self._run.get_artifacts())
        chosen = [a for a in listed if fnmatch.fnmatchcase(a.name, self._pattern)]
        gone: list[str] = []
        reports: list[ParsedReport] = []
        with tempfile.TemporaryDirectory(prefix="gatekeeper-run-") as work:
            for index, artifact in enumerate(chosen):
                label = f"artifact {artifact.name!r} of run {self._run_id}"
                if artifact.expired:
                    gone.append(f"{label} expired at {artifact.expires_at:%Y-%m-%d %H:%M} UTC")
                    continue
                folder = Path(work) / str(index)
                try:
                    reports += self._read(artifact.archive_download_url, folder, label)
                except _artifacts.ArtifactGone as error:
                    gone.append(error.reason)
        facts = reports_to_facts(reports)
        missing = dict(facts.missing)
        why = self._why_missing(listed, chosen, gone)
        for section in _SECTIONS:
            if getattr(facts, section) is None and why:
                missing[section] = why
        subject = Subject(provider="github", repo=gh.repo_name, commit=head.commit, ref=head.branch)
        if head.pull_number is not None:
            subject = subject.model_copy(update={"number": head.pull_number})
        source = Source(
            kind="provider",
            location=f"{gh.api_url}/repos/{gh.repo_name}/actions/runs/{self._run_id}/artifacts",
            format="github-artifacts",
            producer=f"PyGithub {version('PyGithub')}",
        )
        return facts.model_copy(
            update={"subject": subject, "missing": missing, "sources": (*facts.sources, source)}
        )

    def _why_missing(self, listed: list[Any], chosen: list[Any], gone: list[str]) -> str | None:
        if gone:
            return "; ".join(gone)
        if not chosen:
            names = ", ".join(sorted(a.name for a in listed)[:20]) or "none"
            return (
                f"workflow run {self._run_id} has no artifact matching {self._pattern!r} "
                f"(artifacts: {names})"
            )
        return None

    def _read(self, url: str, folder: Path, label: str) -> list[ParsedReport]:
        gh = self._gh
        folder.mkdir()
        session = counting_session(gh.retry_policy, gh.stats)
        headers = {"Accept": "application/vnd.github+json"}
        if gh.token:
            headers["Authorization"] = f"Bearer {gh.token}"
        try:
            with gh.translate(f"downloading {label}", "actions: read"):
                archive = _artifacts.download(
                    session,
                    url,
                    headers=headers,
                    dest=folder / "artifact.zip",
                    label=label,
                    limit=self._limits.max_download,
                    timeout=gh.retry_policy.timeout,
                )
        except OSError as error:
            raise ProviderError(f"cannot download {label} from GitHub ({error})") from error
        finally:
            session.close()
        files = _artifacts.extract(archive, folder / "files", label=label, limits=self._limits)
        archive.unlink()
        return _artifacts.read_reports(
            files, folder / "files", label=label, max_report_bytes=self._max_report_bytes
        )
