"""Settings: defaults < environment (`GATEKEEPER_*`) < flags; built by a function."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gatekeeper.errors import UsageError

DEFAULT_DATA_DIR = Path(".gatekeeper")


def is_loopback_host(host: str | None) -> bool:
    """True for localhost and loopback addresses (where plain http:// is allowed: tests)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_secure_url(url: str, what: str) -> str:
    """`url` when it is https://, or http:// on loopback; ValueError naming `what` otherwise."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return url
    raise ValueError(f"{what} {url!r} must be an https:// URL (http:// only on loopback)")


class OidcIssuer(BaseModel):
    """One CI identity provider whose ID tokens the service accepts (GATEKEEPER_OIDC_ISSUERS)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str = Field(max_length=500, description="The `iss` of its tokens, an https:// URL.")
    audience: str = Field(min_length=1, max_length=500, description="The `aud` they must carry.")
    project_claim: Literal["repository", "project_path"] = Field(
        description="The claim naming the project: `repository` (GitHub), `project_path` (GitLab)."
    )

    @field_validator("issuer")
    @classmethod
    def _secure_issuer(cls, value: str) -> str:
        return check_secure_url(value, "the issuer")


class Settings(BaseSettings):
    """Every setting of the CLI and the service, one place."""

    model_config = SettingsConfigDict(env_prefix="GATEKEEPER_", extra="ignore", frozen=True)

    # reports
    max_report_bytes: int = Field(
        default=512 * 1024 * 1024, gt=0, description="Largest report file accepted, in bytes."
    )
    max_diff_bytes: int = Field(
        default=64 * 1024 * 1024,
        gt=0,
        description="Largest unified diff accepted (--diff FILE, or git's output for --base).",
    )

    # embedded default and database
    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR,
        description="Where the embedded default keeps gatekeeper.db and the signing key.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; PostgreSQL in production (postgresql+psycopg://).",
    )
    sqlite_busy_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a SQLite writer waits for the lock before the request gets 503.",
    )

    # service
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    max_body_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    log_origin: str = Field(
        default="gatekeeper.local/log", description="Origin line of the signed checkpoints."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Client addresses of reverse proxies whose X-Forwarded-Proto the pages believe "
            '(JSON list, e.g. ["10.0.0.2"]); from anyone else the header is ignored.'
        ),
    )
    public_url: str | None = Field(
        default=None,
        description="The service's address for auditors (VSA URIs); default: the request's.",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="PEM file of the Ed25519 signing key (default: created under data_dir/keys).",
    )
    witness_keys: str | None = Field(
        default=None,
        description=(
            "Comma-separated paths of the PEM public keys of the witnesses whose C2SP "
            "cosignatures POST /v1/log/witness accepts (default: none, every cosignature refused)."
        ),
    )

    # limits (each answers 429 with Retry-After; docs/service.md, Limits)
    rate_limit_per_token: int | None = Field(
        default=None,
        gt=0,
        description="Requests one token may make per minute, counted in the database across"
        " every worker and host (default: off).",
    )
    auth_failures_per_address: int | None = Field(
        default=30,
        gt=0,
        description="Refused tokens, sign-ins or witness cosignatures one client address may send"
        " per minute, counted in the database across every worker and host.",
    )
    project_quota_records: int | None = Field(
        default=None, gt=0, description="Records one project may store (default: off)."
    )

    # client side
    token: SecretStr | None = Field(default=None, description="Token for the evidence service.")
    submit_url: str | None = None
    service_url: str | None = Field(
        default=None, description="Evidence service URL for commands that take --service."
    )
    id_token_audience: str = Field(
        default="gatekeeper",
        min_length=1,
        max_length=200,
        description="Audience of the GitHub Actions ID token `evaluate --submit` requests.",
    )
    submit_retries: int = Field(default=4, ge=0, description="Retries of a refused/failed submit.")
    submit_backoff: float = Field(default=0.5, ge=0, description="Submit retry backoff base, s.")
    submit_timeout: float = Field(default=30.0, gt=0, description="Submit HTTP timeout, s.")

    # provider connectors (GitHub, GitLab): retries
    provider_attempts: int = Field(default=5, ge=1, description="Tries per provider request.")
    provider_base_delay: float = Field(default=0.5, ge=0, description="Retry backoff base, s.")
    provider_max_total_wait: float = Field(
        default=300.0, ge=0, description="Bound on all retry waits of one command, in seconds."
    )
    provider_write_interval: float = Field(
        default=1.0, ge=0, description="Pause between writes to GitHub (against abuse limits), s."
    )
    expression_budget: float = Field(
        default=2.0,
        gt=0,
        description="Seconds each CEL rule may run (load-time probe, evaluation).",
    )
    issue_pattern: str | None = Field(
        default=None, description="Regex for change.linked_issues (default: KEY-123 style keys)."
    )

    # the service confirms review facts with the providers (docs/service.md)
    providers: str | None = Field(
        default=None,
        description='JSON list of {"provider": "github"|"gitlab", "api_url", "token_file"}.',
    )
    confirm_cache_seconds: float = Field(
        default=60.0, ge=0, description="How long one head commit's reviews are reused, s."
    )
    confirm_unreachable: Literal["store", "refuse"] = Field(
        default="store",
        description="Provider unreachable: store as 'not confirmed', or refuse (503).",
    )

    # CI identity: OIDC ID tokens as bearer tokens (docs/service.md)
    oidc_issuers: tuple[OidcIssuer, ...] = Field(
        default=(),
        description='JSON list of {"issuer", "audience", "project_claim": '
        '"repository"|"project_path"}.',
    )
    oidc_leeway: float = Field(
        default=60.0, ge=0, le=600, description="Clock leeway for exp, nbf and iat, s."
    )
    oidc_refresh_interval: float = Field(
        default=60.0,
        ge=0,
        description="Least time between two key fetches of one issuer (an unknown kid), s.",
    )
    oidc_keys_max_age: float = Field(
        default=3600.0, gt=0, description="How long an issuer's keys are used before a re-read, s."
    )

    # recomputed verdicts: the service evaluates the carried policy again (docs/service.md)
    evaluation_skew: float = Field(
        default=300.0,
        ge=0,
        description="How far in the future a statement's evaluation time may lie, s.",
    )
    evaluation_max_age: float = Field(
        default=7 * 24 * 3600.0,
        gt=0,
        description="How far in the past a statement's evaluation time may lie, s (7 days).",
    )
    require_policy_document: bool = Field(
        default=False,
        description="Refuse (422) verdict statements that carry no policy document to "
        "re-evaluate (default: store them; verify --recompute names them not recomputable).",
    )
    api_docs: bool = Field(
        default=True,
        description="Serve the OpenAPI page /docs (Swagger UI from the service's own files); "
        "false answers 404 there (/openapi.json stays).",
    )

    def database_url_or_default(self) -> str:
        """The configured database URL (even an empty one, which `make_engine` refuses: a URL
        that is set never falls back to SQLite), or the SQLite file under the data directory."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gatekeeper.db').resolve()}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with flag values (those not None) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        first = error.errors()[0]
        loc = [str(part) for part in first["loc"]] or ["settings"]
        place = ".".join([f"GATEKEEPER_{loc[0].upper()}", *loc[1:]])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise UsageError(f"{place} is invalid: {message}") from None
