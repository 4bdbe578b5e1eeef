"""`/v1/export`: a zip bundle of records with inclusion proofs to one signed checkpoint.

The bundle streams: records are read in batches of `_BATCH` in log order, each batch's proof
nodes in one query, and the zip bytes written so far are handed to the client after each batch,
so memory stays bounded whatever the number of records.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from gatekeeper.attest.keys import SigningKey
from gatekeeper.attest.vsa import VsaError
from gatekeeper.ledger import merkle_tree
from gatekeeper.ledger.bundle import BundleWriter
from gatekeeper.ledger.checkpoint import Checkpoint
from gatekeeper.service._clock import format_time, utc_now
from gatekeeper.service.deps import (
    Context,
    ProjectQuery,
    Reader,
    checked_project,
    require_project,
)
from gatekeeper.service.keyring import published_keys
from gatekeeper.service.problems import ApiError
from gatekeeper.service.records import CheckpointOut, ErrorOut, StoredRecord, record_from_row
from gatekeeper.service.store import KEYS_PROJECT, hex_hashes
from gatekeeper.service.summaries import record_vsa, service_base
from gatekeeper.service.tables import RecordRow
from gatekeeper.service.tree_nodes import NodeReader
from gatekeeper.service.witnesses import bundle_witnesses, newest_witnessed_size

router = APIRouter(prefix="/v1/export", tags=["export"])

_BATCH = 500


class _Sink:
    """A write-only, non-seekable file object collecting the zip's bytes between yields."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: bytes leave with `take`."""

    def take(self) -> bytes:
        """The bytes written since the last call."""
        data, self._parts = b"".join(self._parts), []
        return data


def _query(project: str | None, since: str | None, until: str | None, size: int) -> Select[Any]:
    query = select(RecordRow.__table__).where(RecordRow.log_index < size)
    if project is not None:
        query = query.where(RecordRow.project == project)
    if since is not None:
        query = query.where(RecordRow.integrated_at >= since)
    if until is not None:
        query = query.where(RecordRow.integrated_at < until)
    return query.order_by(RecordRow.log_index).limit(_BATCH)


def _summary(record: StoredRecord, base: str, key: SigningKey) -> dict[str, Any] | None:
    """The record's signed VSA, or None when it holds no gate verdict."""
    try:
        return record_vsa(record, base, key).to_json_dict()
    except VsaError:
        return None


def _chunks(
    context: Context,
    checkpoint: CheckpointOut,
    filters: dict[str, str],
    base: str,
    consistency: dict[str, Any] | None = None,
) -> Iterator[bytes]:
    sink = _Sink()
    key = context.store.signing_key()
    writer = BundleWriter(
        sink,  # type: ignore[arg-type]  # a write-only stream is all zipfile needs
        signing_key=key,
        exported_at=utc_now(),
        filters=filters,
    )
    query = _query(
        filters.get("project"), filters.get("since"), filters.get("until"), checkpoint.size
    )
    with context.engine.connect() as connection:
        last = -1
        while True:
            rows = connection.execute(query.where(RecordRow.log_index > last)).all()
            if not rows:
                break
            records = [record_from_row(row._mapping) for row in rows]
            reader = NodeReader(connection)
            reader.prefetch(
                pair
                for record in records
                for pair in merkle_tree.required_nodes_for_inclusion(
                    record.log_index, checkpoint.size
                )
            )
            for record in records:
                proof = merkle_tree.inclusion_proof(record.log_index, checkpoint.size, reader.get)
                writer.write_record(record.to_json(), proof, _summary(record, base, key))
            last = records[-1].log_index
            yield sink.take()
        _write_transitions(context, connection, writer, checkpoint.size)
        keys = {"keys": [vars(key) for key in published_keys(connection)]}
        witnessed = bundle_witnesses(connection, checkpoint.size)
    writer.finish(
        Checkpoint(**checkpoint.model_dump()), keys, consistency=consistency, witnesses=witnessed
    )
    yield sink.take()


def _write_transitions(
    context: Context, connection: Connection, writer: BundleWriter, size: int
) -> None:
    """Every key transition of the log, whatever the filters: the verifier follows them from
    the key it pinned to the keys that signed later records and the manifest (a transition
    after `size` is proven to the newest checkpoint's tree instead)."""
    newest = context.store.latest_checkpoint(connection)
    latest = max(size, newest.size if newest is not None else size)
    rows = connection.execute(
        select(RecordRow.__table__)
        .where(RecordRow.project == KEYS_PROJECT, RecordRow.log_index < latest)
        .order_by(RecordRow.log_index)
    ).all()
    records = [record_from_row(row._mapping) for row in rows]
    reader = NodeReader(connection)
    for record in records:
        tree = size if record.log_index < size else latest
        reader.prefetch(merkle_tree.required_nodes_for_inclusion(record.log_index, tree))
        proof = merkle_tree.inclusion_proof(record.log_index, tree, reader.get)
        writer.write_transition(record.to_json(), proof, tree)


def _bundle_checkpoint(context: Context, *, witnessed: bool) -> CheckpointOut:
    with context.engine.connect() as connection:
        if not witnessed:
            checkpoint = context.store.latest_checkpoint(connection)
        elif (size := newest_witnessed_size(connection)) is None:
            raise ApiError(404, "no witness has cosigned a checkpoint of this log yet")
        else:
            checkpoint = context.store.checkpoint_at(connection, size)
    if checkpoint is None:
        raise ApiError(404, "the log is empty: there is nothing to export yet")
    return checkpoint


@router.get(
    "",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The bundle."},
        **{code: {"model": ErrorOut} for code in (401, 403, 404, 422, 503)},
    },
    summary="Export a bundle for offline verification",
)
def export(
    request: Request,
    context: Context,
    principal: Reader,
    *,
    project: ProjectQuery = None,
    since: Annotated[datetime | None, Query(description="Integrated at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Integrated before.")] = None,
    since_size: Annotated[
        int | None,
        Query(ge=1, description="Add the consistency proof from this older tree size."),
    ] = None,
    witnessed: Annotated[
        bool,
        Query(
            description="Export to the newest checkpoint a witness cosigned instead of the "
            "newest checkpoint (records after it are left out)."
        ),
    ] = False,
) -> StreamingResponse:
    """A zip of the matching records, their inclusion proofs to the newest signed checkpoint,
    each verdict record's SLSA VSA v1 (`vsa.jsonl`), the public keys, the log's key transitions
    (`transitions.jsonl`), the newest witness cosignatures (`witnesses.json`) and a README;
    `gatekeeper verify BUNDLE --key service.pem` checks it offline (with `--checkpoint OLD.json`
    too, when `since_size` added the proof from OLD's size)."""
    project = checked_project(project)
    require_project(principal, project)
    checkpoint = _bundle_checkpoint(context, witnessed=witnessed)
    consistency = None
    if since_size is not None:
        if since_size > checkpoint.size:
            raise ApiError(
                422, f"since_size {since_size} is beyond the log's size {checkpoint.size}"
            )
        hashes = context.store.consistency_proof(since_size, checkpoint.size)
        consistency = {"old": since_size, "new": checkpoint.size, "hashes": hex_hashes(hashes)}
    filters = {"project": project} if project is not None else {}
    if since is not None:
        filters["since"] = format_time(since)
    if until is not None:
        filters["until"] = format_time(until)
    base = service_base(context.settings.public_url, str(request.base_url))
    name = f"gatekeeper-export-{checkpoint.size}.zip"
    return StreamingResponse(
        _chunks(context, checkpoint, filters, base, consistency),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
