"""CI identity: GitHub Actions and GitLab CI OIDC ID tokens as bearer tokens.

An issuer of GATEKEEPER_OIDC_ISSUERS publishes its keys at the `jwks_uri` of its
`/.well-known/openid-configuration`. Keys are cached per issuer, re-read when a token names an
unknown `kid` (at most once per `refresh_interval`, so a flood of made-up key ids cannot make the
service fetch without limit) and when older than `max_age`. Only asymmetric signatures are
accepted (never `none` or HS*); PyJWT checks the signature and `iss`, `aud`, `exp`, `nbf`, `iat`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from gatekeeper.attest.canonical import CanonicalJSONError, strict_json_loads
from gatekeeper.config import OidcIssuer, check_secure_url

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
MAX_TOKEN_CHARS = 16 * 1024
MAX_DOCUMENT_BYTES = 256 * 1024
_CLAIM_CHARS = 300
# the claims the submitter records: (record key, GitHub claim, GitLab claim)
_SUBMITTER_CLAIMS = (
    ("ref", "ref", "ref"),
    ("sha", "sha", "sha"),
    ("workflow_ref", "workflow_ref", None),
    ("pipeline_id", None, "pipeline_id"),
    ("run_id", "run_id", "job_id"),
    ("actor", "actor", "user_login"),
    ("runner_environment", "runner_environment", "runner_environment"),
    ("event", "event_name", "pipeline_source"),
)


class IdTokenRefused(Exception):  # noqa: N818 (a refusal, not a fault)
    """An ID token the service does not accept; `status` is 401, or 503 when the issuer's keys
    cannot be read now."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CiIdentity:
    """Who a verified ID token speaks for: the project its claim names, and the submitter
    (the verified claims) the signed record carries."""

    project: str
    submitter: dict[str, str]


def looks_like_jwt(token: str) -> bool:
    """True for a compact JWS (three dot-separated parts, a JSON header)."""
    return token.startswith("eyJ") and token.count(".") == 2 and len(token) <= MAX_TOKEN_CHARS


Fetch = Callable[[str], bytes]


def http_fetcher(timeout: float = 5.0, max_bytes: int = MAX_DOCUMENT_BYTES) -> Fetch:
    """A GET of a JSON document: timeouts, no redirects, at most `max_bytes` read."""
    client = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False)

    def fetch(url: str) -> bytes:
        with client.stream("GET", url, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                raise OSError(f"{url} answered HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > max_bytes:
                    raise OSError(f"{url} sent more than {max_bytes} bytes")
        return bytes(body)

    return fetch


@dataclass
class _IssuerKeys:
    config: OidcIssuer
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None  # monotonic time of the last attempt, successful or not
    loaded: bool = False
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class OidcVerifier:
    """Verifies ID tokens of the configured issuers (thread-safe; keys cached per issuer)."""

    def __init__(
        self,
        issuers: tuple[OidcIssuer, ...],
        *,
        leeway: float = 60.0,
        refresh_interval: float = 60.0,
        max_age: float = 3600.0,
        fetch: Fetch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuers = {issuer.issuer.rstrip("/"): _IssuerKeys(issuer) for issuer in issuers}
        self._leeway = leeway
        self._refresh_interval = refresh_interval
        self._max_age = max_age
        self._fetch = fetch or http_fetcher()
        self._clock = clock
        self.fetches = 0  # JWKS documents read, for tests and metrics

    def verify(self, token: str) -> CiIdentity:
        """The identity of a valid token; IdTokenRefused says why not."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise IdTokenRefused("the ID token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise IdTokenRefused(
                f"the ID token's algorithm {str(algorithm)[:20]!r} is not accepted "
                "(only asymmetric signatures)"
            )
        issuer = unverified.get("iss")
        entry = self._issuers.get(issuer.rstrip("/")) if isinstance(issuer, str) else None
        if entry is None:
            raise IdTokenRefused(f"the ID token's issuer {str(issuer)[:100]!r} is not trusted here")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise IdTokenRefused("the ID token names no key (kid)")
        key = self._key(entry, kid[:200])  # PyJWT checks the token's alg is the key's
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[algorithm],
                audience=entry.config.audience,
                issuer=issuer,
                leeway=self._leeway,
                options={"require": ["iss", "aud", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError:
            raise IdTokenRefused("the ID token has expired") from None
        except jwt.ImmatureSignatureError as error:
            raise IdTokenRefused(f"the ID token is not valid yet ({error})") from None
        except jwt.InvalidAudienceError:
            raise IdTokenRefused(
                "the ID token is for another audience "
                f"(this service accepts {entry.config.audience!r})"
            ) from None
        except jwt.InvalidSignatureError:
            raise IdTokenRefused("the ID token's signature does not verify") from None
        except jwt.PyJWTError as error:
            raise IdTokenRefused(f"the ID token is refused: {error}") from None
        return _identity(entry.config, claims)

    def _key(self, entry: _IssuerKeys, kid: str) -> jwt.PyJWK:
        with entry.lock:
            now = self._clock()
            stale = entry.fetched_at is None or now - entry.fetched_at >= self._max_age
            may_refresh = (
                entry.fetched_at is None or now - entry.fetched_at >= self._refresh_interval
            )
            if stale or (kid not in entry.keys and may_refresh):
                self._refresh(entry, now)
            key = entry.keys.get(kid)
        if key is not None:
            return key
        if not entry.loaded:
            raise IdTokenRefused(
                f"the keys of {entry.config.issuer} cannot be read now ({entry.error})", 503
            )
        raise IdTokenRefused(f"the ID token's key {kid[:60]!r} is not one of its issuer's keys")

    def _refresh(self, entry: _IssuerKeys, now: float) -> None:
        entry.fetched_at = now
        self.fetches += 1
        try:
            entry.keys = _read_keys(self._fetch, entry.config.issuer)
            entry.loaded = True
            entry.error = None
        except (OSError, httpx.HTTPError, ValueError) as error:
            entry.error = str(error)[:200] or type(error).__name__
            # keys read before stay usable until a fetch succeeds


def _read_keys(fetch: Fetch, issuer: str) -> dict[str, jwt.PyJWK]:
    discovery = _json_object(
        fetch(issuer.rstrip("/") + "/.well-known/openid-configuration"), "discovery"
    )
    if str(discovery.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise ValueError("the discovery document names another issuer")
    jwks_uri = discovery.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        raise ValueError("the discovery document has no jwks_uri")
    document = _json_object(fetch(check_secure_url(jwks_uri, "jwks_uri")), "JWKS")
    found: dict[str, jwt.PyJWK] = {}
    entries = document.get("keys")
    for data in entries if isinstance(entries, list) else []:
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        kid = data.get("kid")
        if not isinstance(kid, str) or data.get("kty") == "oct":
            continue  # symmetric keys are never accepted
        try:
            found[kid] = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue  # an unusable key is skipped; the others stay
    return found


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = strict_json_loads(body)
    except (CanonicalJSONError, ValueError) as error:
        raise ValueError(f"the {what} document is not JSON ({error})") from None
    if not isinstance(data, dict):
        raise ValueError(f"the {what} document is not a JSON object")
    return data


def _claim(claims: Mapping[str, Any], name: str | None) -> str | None:
    value = claims.get(name) if name else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)[:_CLAIM_CHARS]
    return text or None


def _identity(config: OidcIssuer, claims: Mapping[str, Any]) -> CiIdentity:
    project = _claim(claims, config.project_claim)
    if project is None:
        raise IdTokenRefused(f"the ID token has no {config.project_claim} claim naming a project")
    github = config.project_claim == "repository"
    submitter = {
        "kind": "oidc",
        "issuer": config.issuer,
        "subject": _claim(claims, "sub") or "",
        config.project_claim: project,
    }
    for key, github_claim, gitlab_claim in _SUBMITTER_CLAIMS:
        value = _claim(claims, github_claim if github else gitlab_claim)
        if value is not None:
            submitter[key] = value
    return CiIdentity(project=project, submitter=submitter)


def build_verifier(
    issuers: tuple[OidcIssuer, ...], *, leeway: float, refresh_interval: float, max_age: float
) -> OidcVerifier | None:
    """The verifier of GATEKEEPER_OIDC_ISSUERS, or None when no issuer is configured."""
    if not issuers:
        return None
    return OidcVerifier(issuers, leeway=leeway, refresh_interval=refresh_interval, max_age=max_age)
