"""Signing of evidence: canonical JSON (RFC 8785), in-toto Statement v1, DSSE, Ed25519 keys.

Pure code, no I/O: the service and the CLI hand keys and bytes in.
"""

from gatekeeper.attest.canonical import (
    MAX_SAFE_INTEGER,
    CanonicalJSONError,
    canonical_json,
    strict_json_loads,
)
from gatekeeper.attest.dsse import (
    PAYLOAD_TYPE,
    Envelope,
    Signature,
    pae,
    sign_envelope,
    verify_envelope,
    verify_envelope_json,
    verify_foreign_envelope,
)
from gatekeeper.attest.keys import KeyFormatError, SigningKey, VerifyingKey, key_id_of
from gatekeeper.attest.statement import (
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    Statement,
    StatementError,
    Subject,
    build_statement,
    parse_statement,
    statement_bytes,
    statement_from_json,
)

__all__ = [
    "MAX_SAFE_INTEGER",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "CanonicalJSONError",
    "Envelope",
    "KeyFormatError",
    "Signature",
    "SigningKey",
    "Statement",
    "StatementError",
    "Subject",
    "VerifyingKey",
    "build_statement",
    "canonical_json",
    "key_id_of",
    "pae",
    "parse_statement",
    "sign_envelope",
    "statement_bytes",
    "statement_from_json",
    "strict_json_loads",
    "verify_envelope",
    "verify_envelope_json",
    "verify_foreign_envelope",
]
