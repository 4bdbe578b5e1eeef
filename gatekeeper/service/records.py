"""Wire models of the API (frozen, extra="forbid") and conversions from stored rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from gatekeeper.service.projects import PROJECT_MAX_LENGTH, PROJECT_PATTERN, validate_project


class _Wire(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SignatureOut(_Wire):
    """One DSSE signature."""

    keyid: str = Field(description="SHA-256 (hex) of the raw Ed25519 public key.")
    sig: str = Field(description="Base64 Ed25519 signature over the DSSE PAE of the payload.")


class EnvelopeOut(_Wire):
    """A DSSE envelope around the in-toto statement."""

    payloadType: str = Field(description="Always application/vnd.in-toto+json.")  # noqa: N815
    payload: str = Field(description="Base64 of the RFC 8785 canonical statement bytes.")
    signatures: list[SignatureOut]


class CheckpointOut(_Wire):
    """A signed checkpoint: tree size and root hash, signed as a note."""

    size: int = Field(description="Number of leaves in the log.")
    root_hash: str = Field(description="Root hash of the log (hex).")
    key_id: str = Field(description="Key that signed the note.")
    note: str = Field(description="Checkpoint text: origin, size, base64 root, each + newline.")
    signature: str = Field(description="Base64 of the raw Ed25519 signature over `note`.")


class CosignatureOut(_Wire):
    """A witness's C2SP cosignature/v1 of one checkpoint."""

    size: int = Field(description="The tree size of the cosigned checkpoint.")
    witness_key_id: str = Field(description="SHA-256 of the witness's raw public key.")
    name: str = Field(description="The witness's name in its signature line.")
    timestamp: int = Field(description="When the witness cosigned (POSIX seconds).")
    cosignature: str = Field(description="The signature line: `— <name> <base64>` + newline.")


class WitnessedCheckpointOut(CheckpointOut):
    """A signed checkpoint and the witness cosignatures the service keeps for it."""

    cosignatures: list[CosignatureOut] = Field(
        default_factory=list, description="Cosignatures of this checkpoint, oldest first."
    )


class WitnessIn(_Wire):
    """A witness's cosignature of a checkpoint body this log issued."""

    checkpoint: str = Field(
        max_length=2000, description="The checkpoint body (note) exactly as the log signed it."
    )
    cosignature: str = Field(
        max_length=400, description="The C2SP cosignature/v1 line: `— <name> <base64>`."
    )


class InclusionProofOut(_Wire):
    """RFC 9162 audit path of one leaf."""

    index: int
    size: int
    hashes: list[str]


class ConsistencyProofOut(_Wire):
    """RFC 9162 consistency proof between two tree sizes."""

    old: int
    new: int
    hashes: list[str]


class ReceiptOut(_Wire):
    """Proof that a record is in the log: its audit path to a signed checkpoint."""

    checkpoint: CheckpointOut
    inclusion_proof: InclusionProofOut


class RecordOut(_Wire):
    """A stored evidence record, with its receipt."""

    id: str
    project: str
    log_index: int
    leaf_hash: str = Field(description="SHA-256(0x00 || canonical envelope bytes), hex.")
    integrated_at: str = Field(description="UTC time the log integrated the record.")
    envelope: EnvelopeOut
    receipt: ReceiptOut | None = Field(
        default=None, description="Inclusion proof to the checkpoint current when answered."
    )
    waived: bool = Field(
        default=False, description="Whether the verdict passed through a waiver (ISO 9001 8.7)."
    )
    waived_rules: list[str] = Field(
        default_factory=list, description="The ids of the rules a waiver applied to."
    )


class RecordPage(_Wire):
    """One page of records; pass `next_cursor` as `cursor` for the next."""

    records: list[RecordOut]
    next_cursor: str | None


class KeyOut(_Wire):
    """A public key the service signs or signed with."""

    key_id: str
    algorithm: Literal["ed25519"]
    public_key_pem: str
    verifier_key: str = Field(
        description="The key as a C2SP signed-note verifier key line "
        "(`<log origin>+<8 hex key hash>+<base64 of 0x01 and the raw key>`), for `verify --key` "
        "and note-verifying tools."
    )
    created_at: str
    retired_at: str | None


class KeysOut(_Wire):
    """Every published key, current and retired."""

    keys: list[KeyOut]


class TransitionOut(_Wire):
    """A key-transition record and its inclusion proof to the tree of the answer's size."""

    record: RecordOut
    proof: InclusionProofOut


class TransitionsOut(_Wire):
    """The log's key transitions before `size`, in log order, each proven to that tree."""

    size: int = Field(description="The tree size every proof leads to (a signed checkpoint's).")
    transitions: list[TransitionOut]


class EvidenceIn(BaseModel):
    """Body of POST /v1/evidence."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = Field(
        description="The project (repository) as owner/name (GitLab: group/.../name); every "
        "subject of the statement must name it, as itself or as https://host/owner/name.",
        json_schema_extra={
            "minLength": 1,
            "maxLength": PROJECT_MAX_LENGTH,
            "pattern": PROJECT_PATTERN,
        },
    )
    statement: dict[str, Any] = Field(description="An in-toto Statement v1.")

    @field_validator("project")
    @classmethod
    def _project_name(cls, value: str) -> str:
        return validate_project(value)


class ErrorDetail(_Wire):
    """What went wrong, as a code and one sentence."""

    code: str
    message: str


class ErrorOut(_Wire):
    """Every error the API answers."""

    error: ErrorDetail


class HealthOut(_Wire):
    """Liveness or readiness."""

    status: str
    detail: str | None = None


@dataclass(frozen=True)
class StoredRecord:
    """A record as stored: the envelope kept as the exact leaf bytes."""

    id: str
    project: str
    log_index: int
    leaf_hash: str
    integrated_at: str
    envelope: bytes
    inclusion_proof: str | None = None
    waived: bool = False
    waived_rules: tuple[str, ...] = ()

    def to_out(self, receipt: ReceiptOut | None = None) -> RecordOut:
        """The API shape of this record."""
        return RecordOut(
            id=self.id,
            project=self.project,
            log_index=self.log_index,
            leaf_hash=self.leaf_hash,
            integrated_at=self.integrated_at,
            envelope=EnvelopeOut.model_validate(json.loads(self.envelope)),
            receipt=receipt,
            waived=self.waived,
            waived_rules=list(self.waived_rules),
        )

    def to_json(self) -> dict[str, Any]:
        """The record shape of the design (no receipt), for bundles."""
        return self.to_out().model_dump(exclude={"receipt", "waived", "waived_rules"})


def record_from_row(row: Mapping[Any, Any]) -> StoredRecord:
    """A StoredRecord from a `records` row."""
    return StoredRecord(
        id=row["id"],
        project=row["project"],
        log_index=int(row["log_index"]),
        leaf_hash=row["leaf_hash"],
        integrated_at=row["integrated_at"],
        envelope=bytes(row["envelope"]),
        inclusion_proof=row.get("inclusion_proof"),
        waived=bool(row.get("waived")),
        waived_rules=tuple(str(row.get("waived_rules") or "").split()),
    )


def checkpoint_from_row(row: Mapping[Any, Any]) -> CheckpointOut:
    """A CheckpointOut from a `checkpoints` row."""
    return CheckpointOut(
        size=int(row["size"]),
        root_hash=row["root_hash"],
        key_id=row["key_id"],
        note=row["note"],
        signature=row["signature"],
    )


def envelope_dict(envelope: Any) -> dict[str, Any]:
    """The JSON object of a DSSE envelope from `gatekeeper.attest.dsse`."""
    if isinstance(envelope, Mapping):
        return dict(envelope)
    return dict(envelope.to_json_dict())
