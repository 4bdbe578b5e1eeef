"""The export bundle: the streaming writer (`writer`), the offline verifier (`verify`), its README.

The private `_*` modules each check one part of a bundle for `verify`.
"""

from gatekeeper.ledger.bundle.verify import (
    BundleFailure,
    BundleReport,
    bundle_checkpoint,
    bundle_keys,
    pinned_keys,
    verify_bundle,
)
from gatekeeper.ledger.bundle.writer import (
    BUNDLE_FORMAT,
    CHECKPOINT_MEMBER,
    CONSISTENCY_MEMBER,
    DIGESTS_MEMBER,
    KEYS_MEMBER,
    MANIFEST_MEMBER,
    MANIFEST_PAYLOAD_TYPE,
    PROOFS_MEMBER,
    README_MEMBER,
    RECORD_FIELDS,
    RECORDS_MEMBER,
    SUMMARIES_MEMBER,
    TRANSITIONS_MEMBER,
    WITNESSES_MEMBER,
    BundleWriter,
    Manifest,
)

__all__ = [
    "BUNDLE_FORMAT",
    "CHECKPOINT_MEMBER",
    "CONSISTENCY_MEMBER",
    "DIGESTS_MEMBER",
    "KEYS_MEMBER",
    "MANIFEST_MEMBER",
    "MANIFEST_PAYLOAD_TYPE",
    "PROOFS_MEMBER",
    "README_MEMBER",
    "RECORDS_MEMBER",
    "RECORD_FIELDS",
    "SUMMARIES_MEMBER",
    "TRANSITIONS_MEMBER",
    "WITNESSES_MEMBER",
    "BundleFailure",
    "BundleReport",
    "BundleWriter",
    "Manifest",
    "bundle_checkpoint",
    "bundle_keys",
    "pinned_keys",
    "verify_bundle",
]
