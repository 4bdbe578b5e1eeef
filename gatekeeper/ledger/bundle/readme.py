"""The README.md an export bundle carries for its auditor."""

from __future__ import annotations

from gatekeeper.ledger.checkpoint import Checkpoint

__all__ = ["readme_text"]

_README = """\
# Gatekeeper evidence bundle

This bundle holds {count} evidence record(s) exported from a Gatekeeper evidence service, with
everything needed to check them offline: nothing in it has to be trusted on its own.

Check it with:

    gatekeeper verify {{this file}} --key service-public-key.pem

`--key` pins the service's public key (the PEM from `GET /v1/keys` that you kept earlier, or that
the organisation published): the checkpoint, the manifest and every record must then be signed
by that key or by a key the log's key transitions (`transitions.jsonl`: each signed by the key
before it and the key it names) reach from it. `--trust-bundle-keys` uses the keys inside the
bundle instead, which proves that the bundle is self-consistent but not who made it.
`--witness-key PUB` requires the witnesses' cosignatures of the checkpoint (`witnesses.json`).
`--checkpoint OLD.json` also proves that the
log only grew since a checkpoint you kept earlier (an append-only log cannot drop or rewrite a
record without breaking that proof).

## What is checked

1. `manifest.json`: a DSSE envelope signed by the service over the SHA-256 of every member.
2. `checkpoint.json`: the signed tree head: tree size {size}, root hash {root}; its `note` is the
   C2SP tlog-checkpoint text and `signature` the Ed25519 signature over it.
3. For each line of `records.jsonl` (one record: id, project, log_index, leaf_hash,
   integrated_at, envelope):
   - the line's SHA-256 is line i of `records.sha256` (covered by the manifest);
   - the DSSE envelope is signed by a pinned key or one the transitions reach (key id =
     SHA-256 of the raw key);
   - its payload is an in-toto Statement v1 (subject = repository + commit);
   - `leaf_hash` = SHA-256(0x00 || RFC 8785 canonical JSON of the envelope object);
   - line i of `proofs.jsonl` is an RFC 9162 inclusion proof of that leaf at `log_index` to the
     checkpoint's root.
4. With `--checkpoint OLD.json`: an RFC 9162 consistency proof from the old tree size to this
   one, from `consistency.json` (export with `since_size=OLD_SIZE`) or from the service
   (`--service URL`, `GET /v1/log/proof/consistency?old=&new=`).

Every record that fails is named by its line number and id; the exit code is 0 when everything
holds, 1 when anything fails, 2 when the bundle cannot be read.
"""


def readme_text(checkpoint: Checkpoint, count: int) -> bytes:
    """The README for a bundle of `count` records proven against `checkpoint`."""
    return _README.format(count=count, size=checkpoint.size, root=checkpoint.root_hash).encode()
