"""Facts from the raw GitLab payloads of one merge request (no HTTP here, plain dictionaries)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from connectors import _codeowners
from connectors._reviews import linked_issues
from connectors.interface import CollectOptions
from gatekeeper.facts import (
    MESSAGE_LIMIT,
    Change,
    Check,
    Checks,
    Commit,
    Coverage,
    Facts,
    Reviews,
    Source,
    Subject,
    TestFailure,
    TestSummary,
)

_log = logging.getLogger(__name__)
_BOT = re.compile(r"^(project|group)_\d+_bot(_\w+)?$")
_DONE = {"success", "failed", "canceled", "skipped"}
_BAD = {"failed", "canceled"}


def _is_bot(user: Mapping[str, Any]) -> bool:
    return bool(user.get("bot")) or bool(_BOT.match(str(user.get("username", ""))))


class Builder:
    """Turns the payloads collected for one MR into Facts, with exclusions and missing reasons."""

    def __init__(
        self,
        raw: Mapping[str, Any],
        options: CollectOptions,
        *,
        repo: str,
        gated: str | None = None,
        ref: str | None = None,
    ) -> None:
        self._raw = raw
        self._mr: Mapping[str, Any] = raw["mr"]
        self._repo = repo
        self._gated = gated  # the commit a tag/branch pipeline gates (else the MR head)
        self._ref = ref
        self._options = options
        self.missing: dict[str, str] = {}
        self._author = str((self._mr.get("author") or {}).get("username", ""))
        self._commits = tuple(
            Commit(sha=c["id"], author=c.get("author_name"), message=c.get("message") or "")
            for c in raw.get("commits", [])
        )
        settings = raw.get("settings") or {}
        self._exclude_committers = options.exclude_commit_authors or bool(
            settings.get("merge_requests_disable_committers_approval")
        )
        committers: set[str] = set()
        for commit in raw.get("commits", []):
            for key in ("author_name", "committer_name"):
                committers.add(str(commit.get(key, "")).lower())
            for key in ("author_email", "committer_email"):
                committers.add(str(commit.get(key, "")).split("@")[0].lower())
        self._committers = committers - {""}
        self.approvers, self.stale = self._approvals()
        self.codeowners_approved: bool | None = None

    def counts(self, user: Mapping[str, Any]) -> bool:
        """Whether `user` may count as a reviewer: not a bot, not the author, maybe no committer."""
        username = str(user.get("username", "")).lower()
        if _is_bot(user) or username == self._author.lower():
            return False
        if self._exclude_committers:
            name = str(user.get("name", "")).lower()
            return username not in self._committers and name not in self._committers
        return True

    def _approvals(self) -> tuple[tuple[str, ...], int]:
        entries = (self._raw.get("approvals") or {}).get("approved_by") or []
        last_push = self._last_push()
        approvers: list[str] = []
        stale = 0
        for entry in entries:
            user = entry.get("user") or {}
            if not self.counts(user):
                continue
            approved_at = entry.get("approved_at")
            if last_push and approved_at and str(approved_at) < last_push:
                stale += 1
                continue
            approvers.append(str(user["username"]))
        return tuple(sorted(set(approvers), key=str.lower)), stale

    def _last_push(self) -> str | None:
        versions = self._raw.get("versions") or []
        stamps = [str(v["created_at"]) for v in versions if v.get("created_at")]
        return max(stamps) if stamps else None

    def apply_codeowners(self, text: str | None, resolve: _codeowners.TeamResolver) -> None:
        """Sets `codeowners_approved` from the CODEOWNERS text (None: no file found)."""
        if text is None:
            self.missing["reviews.codeowners_approved"] = (
                "no CODEOWNERS file in the root, docs/ or .gitlab/ of "
                f"{self._mr.get('target_branch')}"
            )
            return
        lacking = _codeowners.unapproved_paths(
            text, self._raw.get("files", []), self.approvers, resolve_team=resolve, gitlab=True
        )
        if lacking:
            _log.info("files without an owner's approval: %s", ", ".join(lacking[:20]))
        self.codeowners_approved = not lacking

    def _changes_requested(self) -> int:
        reviewers = self._raw.get("reviewers")
        if reviewers is None:
            self.missing["reviews.changes_requested"] = (
                "this GitLab does not list reviewer states (merge request reviewers API)"
            )
            return 0
        return sum(
            1
            for r in reviewers
            if r.get("state") == "requested_changes" and self.counts(r.get("user") or {})
        )

    def _rule_checks(self) -> list[Check]:
        state = self._raw.get("approval_state") or {}
        checks = []
        for rule in state.get("rules") or []:
            valid = {u.get("username") for u in rule.get("approved_by") or [] if self.counts(u)}
            valid &= set(self.approvers)
            ok = len(valid) >= int(rule.get("approvals_required") or 0)
            checks.append(
                Check(
                    name=f"approval rule: {rule.get('name')}",
                    status="completed",
                    conclusion="success" if ok else "failed",
                )
            )
        return checks

    def _checks(self) -> Checks | None:
        pipeline = self._raw.get("pipeline")
        rules = self._rule_checks()
        if not pipeline:
            self.missing["checks"] = (
                f"commit {self._gated[:7]} has no pipeline"
                if self._gated
                else "the merge request has no head pipeline"
            )
            return None
        own = "gatekeeper/"  # our own commit statuses show up as external jobs
        jobs = [j for j in self._raw.get("jobs", []) if not str(j.get("name")).startswith(own)]
        pairs = [(_check(f"pipeline #{pipeline.get('id')}", pipeline), False)]
        pairs += [
            (_check(str(job.get("name")), job), bool(job.get("allow_failure"))) for job in jobs
        ]
        pairs += [(rule, False) for rule in rules]
        runs = [check for check, _ in pairs]
        failed = [check for check, allowed in pairs if check.conclusion in _BAD and not allowed]
        return Checks(runs=tuple(runs), failed=tuple(failed))

    def _tests(self) -> TestSummary | None:
        report = self._raw.get("test_report") or {}
        if not report.get("test_suites") and not report.get("total_count"):
            if self._raw.get("pipeline"):
                self.missing["tests"] = (
                    "the head pipeline has no test report (artifacts:reports:junit)"
                )
            return None
        return TestSummary(
            total=int(report.get("total_count") or 0),
            passed=int(report.get("success_count") or 0),
            failed=int(report.get("failed_count") or 0),
            errors=int(report.get("error_count") or 0),
            skipped=int(report.get("skipped_count") or 0),
            duration_s=max(0.0, float(report.get("total_time") or 0.0)),
            failures=tuple(_failures(report.get("test_suites") or [])),
        )

    def _coverage(self) -> Coverage | None:
        value = (self._raw.get("pipeline") or {}).get("coverage")
        if value in (None, ""):
            if self._raw.get("pipeline"):
                self.missing["coverage"] = "the head pipeline reports no coverage (`coverage:`)"
            return None
        reason = "GitLab gives only the pipeline's coverage percentage"
        self.missing["coverage.lines_valid"] = reason
        self.missing["coverage.lines_covered"] = reason
        return Coverage(line_rate=round(float(value) / 100, 6))

    def facts(self, source: Source) -> Facts:
        """The Facts with everything gathered so far."""
        mr = self._mr
        reviews = Reviews(
            approvals=len(self.approvers),
            changes_requested=self._changes_requested(),
            approvers=self.approvers,
            codeowners_approved=self.codeowners_approved,
            stale_approvals=self.stale,
        )
        texts = [
            mr.get("title"),
            mr.get("description"),
            mr.get("source_branch"),
            *(c.message for c in self._commits),
        ]
        labels = tuple(str(x["name"] if isinstance(x, dict) else x) for x in mr.get("labels", []))
        change = Change(
            title=mr.get("title"),
            branch=mr.get("source_branch"),
            base_ref=mr.get("target_branch"),
            labels=labels,
            author=self._author or None,
            linked_issues=linked_issues(self._options.issue_pattern, texts),
            commits=self._commits,
            files=tuple(self._raw.get("files", [])),
        )
        subject = Subject(
            provider="gitlab",
            repo=self._repo,
            commit=self._gated or mr.get("sha"),
            ref=self._ref if self._gated else mr.get("source_branch"),
            number=mr.get("iid"),
            url=mr.get("web_url"),
        )
        return Facts(
            subject=subject,
            reviews=reviews,
            checks=self._checks(),
            change=change,
            tests=self._tests(),
            coverage=self._coverage(),
            missing=self.missing,
            sources=(source,),
        )

    def commit_facts(self, source: Source, *, ref: str | None, reason: str) -> Facts:
        """Facts of a commit no merge request merged: reviews missing with `reason`."""
        self.missing["reviews"] = reason
        commit = self._commits[0] if self._commits else None
        message = commit.message if commit else ""
        change = Change(
            title=message.splitlines()[0] if message else None,
            author=commit.author if commit else None,
            commits=self._commits,
            linked_issues=linked_issues(self._options.issue_pattern, [message]),
        )
        subject = Subject(provider="gitlab", repo=self._repo, commit=self._gated, ref=ref)
        return Facts(
            subject=subject,
            checks=self._checks(),
            change=change,
            tests=self._tests(),
            coverage=self._coverage(),
            missing=self.missing,
            sources=(source,),
        )


def _check(name: str, data: Mapping[str, Any]) -> Check:
    status = str(data.get("status", ""))
    done = status in _DONE
    return Check(
        name=name, status="completed" if done else status, conclusion=status if done else None
    )


def _failures(suites: Sequence[Mapping[str, Any]]) -> list[TestFailure]:
    failures = []
    for suite in suites:
        for case in suite.get("test_cases") or []:
            status = case.get("status")
            if status not in ("failed", "error"):
                continue
            failures.append(
                TestFailure(
                    suite=str(suite.get("name") or ""),
                    name=str(case.get("name") or ""),
                    classname=str(case.get("classname") or ""),
                    file=case.get("file") or None,
                    message=_message(case)[:MESSAGE_LIMIT],
                    kind="error" if status == "error" else "failure",
                )
            )
    return failures


def _message(case: Mapping[str, Any]) -> str:
    output = case.get("system_output")
    if isinstance(output, dict):
        output = output.get("message")
    elif isinstance(output, list):
        output = "\n".join(str(line) for line in output)
    return str(output or case.get("stack_trace") or "")
