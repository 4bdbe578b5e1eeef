"""How an auditor verifies the report's records offline: the export bundle of the same project
and period, built by the export's own code, its SHA-256, and the commands to check it."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from typing import Any
from urllib.parse import urlencode

from gatekeeper.ledger.bundle import MANIFEST_MEMBER, RECORDS_MEMBER
from gatekeeper.service.deps import ServiceContext
from gatekeeper.service.report.model import ReportRequest, Verification
from gatekeeper.service.routers.export import _chunks

__all__ = ["bundle_name", "export_bundle"]


def bundle_name(request: ReportRequest) -> str:
    """The bundle's file name: project and period, safe on every file system."""
    project = request.project.replace("/", "_")
    since = request.since.isoformat() if request.since else "start"
    until = request.until.isoformat() if request.until else "now"
    return f"gatekeeper-export-{project}-{since}-{until}.zip"


def _manifest(bundle: bytes) -> dict[str, Any]:
    """The payload of the bundle's signed manifest (the bundle was built just now, by us)."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        envelope = json.loads(archive.read(MANIFEST_MEMBER))
    manifest: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return manifest


def export_bundle(
    context: ServiceContext, request: ReportRequest, base_url: str
) -> tuple[Verification, bytes] | None:
    """The period's export bundle and how to verify it; None while the log has no checkpoint."""
    checkpoint = context.store.latest_checkpoint()
    if checkpoint is None:
        return None
    filters = {"project": request.project}
    query = {"project": request.project}
    for name, value in (("since", request.since_time()), ("until", request.until_time())):
        if value is not None:
            filters[name] = value
            query[name] = value[:10] + "T00:00:00Z"
    bundle = b"".join(_chunks(context, checkpoint, filters, base_url))
    manifest = _manifest(bundle)
    name = bundle_name(request)
    export_url = f"{base_url}/v1/export?{urlencode(query)}"
    verification = Verification(
        bundle_name=name,
        bundle_sha256=hashlib.sha256(bundle).hexdigest(),
        bundle_bytes=len(bundle),
        bundle_records=int(manifest["records"]),
        records_member_sha256=str(manifest["files"][RECORDS_MEMBER]),
        exported_at=str(manifest["exported_at"]),
        checkpoint_size=checkpoint.size,
        checkpoint_root=checkpoint.root_hash,
        checkpoint_key_id=checkpoint.key_id,
        export_url=export_url,
        commands=(
            f"sha256sum {name}",
            f"gatekeeper verify {name} --key service-key.pem",
            f'curl -H "Authorization: Bearer $READ_TOKEN" -o later.zip "{export_url}"',
        ),
    )
    return verification, bundle
