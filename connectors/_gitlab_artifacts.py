"""The report files of a GitLab pipeline's jobs, read from their artifacts archives.

GitLab lists a job's `artifacts:reports` files (`file_type` junit, cobertura, ...) but serves only
the archive (`GET /projects/:id/jobs/:job_id/artifacts`): the report files must also be in
`artifacts:paths` to be read. Each archive is downloaded with a byte limit and read by
`connectors._artifacts` (bounded, path-safe), with the same parsers and limits as files.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from connectors import _artifacts
from connectors._http import counting_session
from gatekeeper.facts import Facts
from gatekeeper.reports import ParsedReport, reports_to_facts

if TYPE_CHECKING:
    from connectors.gitlab import GitLab

REPORT_TYPES = frozenset({"junit", "cobertura", "coverage_report"})


def _declares_reports(job: Mapping[str, Any]) -> bool:
    types = {str(a.get("file_type")) for a in job.get("artifacts") or [] if isinstance(a, dict)}
    return bool(types & REPORT_TYPES)


def _has_archive(job: Mapping[str, Any]) -> bool:
    return any(
        isinstance(a, dict) and a.get("file_type") == "archive" for a in job.get("artifacts") or []
    )


def job_report_facts(
    gl: GitLab,
    jobs: Sequence[Mapping[str, Any]],
    *,
    limits: _artifacts.ZipLimits,
    max_report_bytes: int,
) -> tuple[Facts | None, list[str]]:
    """(facts of the report files in the archives of the jobs that declare reports, or None;
    why a declaring job gave nothing)."""
    reasons: list[str] = []
    reports: list[ParsedReport] = []
    with tempfile.TemporaryDirectory(prefix="gatekeeper-jobs-") as work:
        for job in jobs:
            if not _declares_reports(job):
                continue
            label = f"artifacts of job {job.get('name')!r} ({job.get('id')})"
            if not _has_archive(job):
                reasons.append(f"{label}: no archive (add the report files to artifacts:paths)")
                continue
            folder = Path(work) / str(job.get("id"))
            folder.mkdir()
            try:
                archive = _download(gl, int(job["id"]), folder / "artifacts.zip", label, limits)
            except _artifacts.ArtifactGone as error:
                reasons.append(error.reason)
                continue
            files = _artifacts.extract(archive, folder / "files", label=label, limits=limits)
            reports += _artifacts.read_reports(
                files, folder / "files", label=label, max_report_bytes=max_report_bytes
            )
    return (reports_to_facts(reports) if reports else None), reasons


def _download(
    gl: GitLab, job_id: int, dest: Path, label: str, limits: _artifacts.ZipLimits
) -> Path:
    """The job's archive; a redirect to object storage or a CDN is followed without the token
    (requests would forward `PRIVATE-TOKEN`, which is not an Authorization header)."""
    project = gl.project.encoded_id
    url = f"{gl.api_url}/api/v4/projects/{project}/jobs/{job_id}/artifacts"
    headers = {}
    if gl.token:
        headers["JOB-TOKEN" if gl.job_token else "PRIVATE-TOKEN"] = gl.token
    session = counting_session(gl.retry_policy, gl.stats)
    try:
        with gl.translate(f"downloading the {label}", "read_api"):
            return _artifacts.download(
                session,
                url,
                headers=headers,
                dest=dest,
                label=label,
                limit=limits.max_download,
                timeout=gl.retry_policy.timeout,
            )
    finally:
        session.close()


def with_job_reports(facts: Facts, found: Facts) -> Facts:
    """`facts` whose tests and coverage are those of the jobs' report files where they gave them."""
    update: dict[str, Any] = {}
    for section in ("tests", "coverage"):
        if getattr(found, section) is not None:
            update[section] = getattr(found, section)
    missing = {k: v for k, v in facts.missing.items() if k.split(".")[0] not in update}
    missing.update({k: v for k, v in found.missing.items() if k.split(".")[0] in update})
    return facts.model_copy(
        update={**update, "missing": missing, "sources": (*facts.sources, *found.sources)}
    )
