"""`gatekeeper verify BUNDLE`: check an export bundle offline and name every record that fails."""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import httpx
import typer

from gatekeeper import logs
from gatekeeper.attest.canonical import CanonicalJSONError, strict_json_loads
from gatekeeper.attest.keys import KeyFormatError, VerifyingKey
from gatekeeper.cli._recompute import recompute_bundle
from gatekeeper.config import load_settings
from gatekeeper.errors import InputError, UsageError, VerificationError
from gatekeeper.ledger import (
    BundleReport,
    Checkpoint,
    bundle_checkpoint,
    bundle_keys,
    checkpoint_from_json,
    checkpoint_from_note,
    pinned_keys,
    verify_bundle,
)

_TIMEOUT_S = 30.0
_PIN_A_KEY = (
    "no key is pinned: pass --key FILE with the service's public key (PEM or verifier key line, "
    "from the operator or GET /v1/keys) or --keys FILE with several; --trust-bundle-keys checks "
    "only that the bundle agrees with itself"
)
_SELF_CONSISTENT = (
    "self-consistency only: the bundle was checked against its own keys.json, which whoever "
    "wrote it chose; pin a key with --key to know who signed it"
)


class VerifyFormat(enum.StrEnum):
    text = "text"
    json = "json"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(path, f"cannot be read ({error.strerror or error})") from error


def _old_checkpoint(path: Path, pinned: bytes | None, bundle: Path) -> Checkpoint:
    """The JSON checkpoint (GET /v1/log/checkpoint) or its signed-note text (…/note); the
    note's signature line is found by a pinned key or a key of the bundle (one a transition
    may reach: the bundle's verification decides whether it is trusted)."""
    data = _read(path)
    try:
        if data.lstrip().startswith(b"{"):
            return checkpoint_from_json(strict_json_loads(data))
        if pinned is None:
            raise VerificationError("a signed-note checkpoint is read with --key or --keys")
        keys = [*(pinned_keys(pinned) or {}).values(), *bundle_keys(bundle)]
        return checkpoint_from_note(data.decode("utf-8", "replace"), keys)
    except (CanonicalJSONError, VerificationError) as error:
        raise InputError(path, str(error)) from error


def _fetch_consistency(service: str, old: int, new: int) -> list[bytes]:
    """The consistency proof from the service; it is checked against both signed roots."""
    token = load_settings().token
    headers = {}
    if token is not None:
        logs.SECRETS.add(token.get_secret_value())
        headers["Authorization"] = f"Bearer {token.get_secret_value()}"
    url = service.rstrip("/") + "/v1/log/proof/consistency"
    try:
        response = httpx.get(
            url, params={"old": old, "new": new}, headers=headers, timeout=_TIMEOUT_S
        )
        response.raise_for_status()
        hashes = response.json()["hashes"]
        return [bytes.fromhex(h) for h in hashes]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"cannot fetch the consistency proof from {url}: {error}") from error


def _print(report: BundleReport, output_format: VerifyFormat) -> None:
    if output_format is VerifyFormat.json:
        value = report.model_dump(mode="json")
        value["ok"] = report.ok
        typer.echo(json.dumps(value, indent=2))
        return
    for failure in report.failures:
        typer.echo(f"FAIL {failure.describe()}")
    checkpoint = report.checkpoint
    head = (
        f"tree size {checkpoint.size}, root {checkpoint.root_hash}"
        if checkpoint
        else "no checkpoint"
    )
    ids = report.pinned_key_ids
    key = f"pinned key {', '.join(ids)}" if ids else "keys from the bundle"
    if report.key_transitions:
        key += f" and {report.key_transitions} key transition(s) from it"
    if report.witnessed_by:
        key += f"; cosigned by {len(report.witnessed_by)} witness(es)"
    verdict = "OK" if report.ok else f"{len(report.failures)} problem(s)"
    grew = ""
    if report.consistency_from is not None and report.ok:
        grew = f"; the log only grew since size {report.consistency_from}"
    typer.echo(f"{verdict}: {report.records} record(s); {head}; {key}{grew}")
    if not ids:
        typer.echo(_SELF_CONSISTENT)


def _pinned(key: Path | None, keys: Path | None, trust_bundle_keys: bool) -> bytes | None:
    """The pinned key material, or None with --trust-bundle-keys; a usage error without either."""
    if trust_bundle_keys:
        if key is not None or keys is not None:
            raise UsageError("--trust-bundle-keys cannot be combined with --key or --keys")
        return None
    if key is None and keys is None:
        raise UsageError(_PIN_A_KEY)
    return b"\n".join(_read(path) for path in (key, keys) if path is not None)


def verify(
    bundle: Annotated[Path, typer.Argument(help="The export bundle (zip) from GET /v1/export.")],
    *,
    key: Annotated[
        Path | None,
        typer.Option(
            "--key", help="Pin the service's public key: a PEM file or a C2SP verifier key line."
        ),
    ] = None,
    keys: Annotated[
        Path | None,
        typer.Option(
            "--keys",
            help="Pin several keys: a file of PEM public keys and/or verifier key lines.",
        ),
    ] = None,
    trust_bundle_keys: Annotated[
        bool,
        typer.Option(
            "--trust-bundle-keys",
            help="Pin no key: check only that the bundle agrees with its own keys.json.",
        ),
    ] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            "--checkpoint",
            help="An older checkpoint (JSON or signed-note text): prove the log only grew.",
        ),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option("--service", help="Fetch the consistency proof for --checkpoint from here."),
    ] = None,
    output_format: Annotated[
        VerifyFormat, typer.Option("--format", help="Output format.")
    ] = VerifyFormat.text,
    witness_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--witness-key",
            metavar="<path>",
            help="A witness's public key (PEM); repeatable: the bundle's checkpoint must carry "
            "their C2SP cosignatures.",
        ),
    ] = None,
    witnesses: Annotated[
        int | None,
        typer.Option(
            "--witnesses",
            help="How many of the --witness-key keys must have cosigned (default: all).",
        ),
    ] = None,
    recompute: Annotated[
        bool,
        typer.Option(
            "--recompute",
            help="Also evaluate every record's carried policy again and name any that differs "
            "(records without a policy document are named not recomputable).",
        ),
    ] = False,
) -> None:
    """Check every signature, leaf and inclusion proof of a bundle offline; 1 on any failure.

    The checkpoint, the manifest and every record must be signed by a pinned key (--key, --keys)
    or a key the log's key transitions reach from one.
    """
    if service is not None and checkpoint is None:
        raise UsageError("--service is only used with --checkpoint OLD")
    witness_keys = _witness_keys(witness_key or [])
    if witnesses is not None and not 1 <= witnesses <= len(witness_keys):
        raise UsageError(f"--witnesses {witnesses}: give 1 to the number of --witness-key keys")
    pinned = _pinned(key, keys, trust_bundle_keys)
    old = _old_checkpoint(checkpoint, pinned, bundle) if checkpoint is not None else None
    proof = None
    if old is not None and service is not None:
        proof = _fetch_consistency(service, old.size, bundle_checkpoint(bundle).size)
    report = verify_bundle(
        bundle,
        pinned_key_pem=pinned,
        old_checkpoint=old,
        consistency_proof=proof,
        witness_keys=witness_keys,
        witnesses=witnesses,
    )
    _print(report, output_format)
    differs = _report_recompute(bundle) if recompute else 0
    if not report.ok:
        raise VerificationError(f"{bundle}: {len(report.failures)} problem(s) found")
    if differs:
        raise VerificationError(f"{bundle}: {differs} record(s) do not follow from their policy")


def _witness_keys(paths: list[Path]) -> dict[str, VerifyingKey]:
    keys: dict[str, VerifyingKey] = {}
    for path in paths:
        try:
            key = VerifyingKey.from_public_pem(_read(path))
        except KeyFormatError as error:
            raise InputError(path, f"is not a witness public key in PEM ({error})") from error
        keys[key.key_id] = key
    return keys


def _report_recompute(bundle: Path) -> int:
    """Prints what re-evaluating each record found (to stderr); the number that differ."""
    found = recompute_bundle(bundle)
    for item in found:
        if item.status != "follows":
            typer.echo(f"{item.status.upper()} {item.describe()}", err=True)
    follows = sum(item.status == "follows" for item in found)
    differs = sum(item.status == "differs" for item in found)
    typer.echo(
        f"Recomputed: {follows} follow, {differs} differ, "
        f"{len(found) - follows - differs} not recomputable",
        err=True,
    )
    return differs
