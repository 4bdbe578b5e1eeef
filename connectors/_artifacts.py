"""Reports inside CI artifacts: a bounded download and a bounded, path-safe zip reader.

An artifact is hostile input like any report. The download follows the provider's redirect to its
blob store in a fresh request that carries no API token (the token never reaches another host)
and stops at a byte limit. The zip is checked before anything is written: member count, each
member's size, the total, the compression ratio, names that would leave the folder (zip-slip:
absolute paths, `..`, drive letters, backslashes) and symlinks are refused with a sentence naming
the artifact and member; while extracting, the real bytes are counted again (headers can lie).
The report files found are then parsed by the same parsers, with the same size limit, as files.
"""

from __future__ import annotations

import logging
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

import requests

from gatekeeper.errors import ReportError
from gatekeeper.reports import ParsedReport, detect_format, parse_report, read_head

_log = logging.getLogger(__name__)
_CHUNK = 64 * 1024
_MAX_REDIRECTS = 3


@dataclass(frozen=True)
class ZipLimits:
    """Bounds on one artifact: download size, members, sizes and compression ratio."""

    max_download: int = 512 * 1024 * 1024
    max_members: int = 2_000
    max_member_bytes: int = 512 * 1024 * 1024
    max_total_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 200
    ratio_floor: int = 1024 * 1024  # members smaller than this may compress as well as they like


class ArtifactGone(Exception):  # noqa: N818 - a state, not a failure of ours
    """The provider no longer has the artifact (expired, 404 or 410): a missing fact."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def download(
    session: requests.Session,
    url: str,
    *,
    headers: Mapping[str, str],
    dest: Path,
    label: str,
    limit: int,
    timeout: float = 30.0,
) -> Path:
    """Downloads `url` to `dest`: `headers` (the token) only to the API's own host, a redirect
    elsewhere followed without them; ArtifactGone for 404/410, ReportError past `limit` bytes."""
    origin = _origin(url)
    current, sent = url, dict(headers)
    for _ in range(_MAX_REDIRECTS + 1):
        with session.get(
            current, headers=sent, stream=True, allow_redirects=False, timeout=timeout
        ) as response:
            if response.is_redirect:
                location = response.headers.get("Location")
                if not location:
                    raise ReportError(label, "the download redirected nowhere (no Location)")
                current = urljoin(current, location)
                if _origin(current) != origin:
                    sent = {}  # the blob store gets no Authorization header
                continue
            if response.status_code in (404, 410):
                raise ArtifactGone(f"{label} is gone ({response.status_code}: expired or deleted)")
            if response.status_code >= 400:
                raise ReportError(label, f"the download answered {response.status_code}")
            _save(response, dest, label, limit)
            return dest
    raise ReportError(label, f"more than {_MAX_REDIRECTS} redirects while downloading")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def _save(response: requests.Response, dest: Path, label: str, limit: int) -> None:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ReportError(label, f"{declared} bytes is over the artifact size limit of {limit}")
    written = 0
    with dest.open("wb") as out:
        for chunk in response.iter_content(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise ReportError(label, f"the download passed the size limit of {limit} bytes")
            out.write(chunk)


def _safe_name(name: str) -> PurePosixPath | None:
    """The member's relative path, or None when it would leave the folder it is extracted to."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return None
    path = PurePosixPath(name)
    if any(part in ("..", "") for part in path.parts) or ":" in path.parts[0]:
        return None
    return path


def _check_members(
    archive: zipfile.ZipFile, label: str, limits: ZipLimits
) -> list[zipfile.ZipInfo]:
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise ReportError(
            label, f"{len(members)} members is over the limit of {limits.max_members}"
        )
    files, total = [], 0
    for info in members:
        where = f"{label} member {info.filename!r}"
        if _safe_name(info.filename) is None:
            raise ReportError(where, "the name leaves the artifact's folder (zip-slip); refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ReportError(where, "a symbolic link; refused")
        if info.is_dir():
            continue
        if info.file_size > limits.max_member_bytes:
            raise ReportError(
                where, f"{info.file_size} bytes is over the limit of {limits.max_member_bytes}"
            )
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > limits.ratio_floor and ratio > limits.max_ratio:
            raise ReportError(
                where,
                f"compression ratio {ratio:.0f}:1 is over the limit of {limits.max_ratio}:1 "
                "(a zip bomb?); refused",
            )
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ReportError(label, f"more than {limits.max_total_bytes} bytes uncompressed")
        files.append(info)
    return files


def extract(archive_path: Path, dest: Path, *, label: str, limits: ZipLimits) -> list[Path]:
    """The files of the zip at `archive_path`, extracted under `dest` after every check."""
    try:
        with zipfile.ZipFile(archive_path) as archive:
            files = _check_members(archive, label, limits)
            return [_extract_one(archive, info, dest, label) for info in files]
    except zipfile.BadZipFile as error:
        raise ReportError(label, f"not a zip archive ({error})") from None


def _extract_one(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, label: str) -> Path:
    relative = _safe_name(info.filename)
    assert relative is not None  # checked by _check_members
    target = dest.joinpath(*relative.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with archive.open(info) as source, target.open("wb") as out:
            while chunk := source.read(_CHUNK):
                written += len(chunk)
                if written > info.file_size:  # the header lied about the size
                    raise ReportError(f"{label} member {info.filename!r}", "longer than declared")
                out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ReportError(f"{label} member {info.filename!r}", f"unreadable ({error})") from None
    return target


def read_reports(
    files: list[Path], root: Path, *, label: str, max_report_bytes: int
) -> list[ParsedReport]:
    """Every report among `files` (others skipped), parsed with the file limits and named
    `label:member`."""
    reports = []
    for path in files:
        member = path.relative_to(root).as_posix()
        location = f"{label}:{member}"
        if path.stat().st_size > max_report_bytes:
            raise ReportError(location, f"over the report size limit of {max_report_bytes} bytes")
        try:
            detect_format(path, read_head(path))
        except ReportError:
            _log.info("skipped %s: not a report", location)
            continue
        try:
            reports.append(parse_report(path, location=location))
        except ReportError as error:  # name the member, not the temporary file
            raise ReportError(location, error.detail, line=error.line) from None
    return reports
