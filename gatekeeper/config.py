"""Settings: defaults < environment (`GATEKEEPER_*`) < flags; built by a function."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".gatekeeper")


class Settings(BaseSettings):
    """Every setting of the CLI and the service, one place."""

    model_config = SettingsConfigDict(env_prefix="GATEKEEPER_", extra="ignore", frozen=True)

    # reports
    max_report_bytes: int = Field(
        default=512 * 1024 * 1024, gt=0, description="Largest report file accepted, in bytes."
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
    signing_key_file: Path | None = Field(
        default=None,
        description="PEM file of the Ed25519 signing key (default: created under data_dir/keys).",
    )

    # client side
    token: SecretStr | None = Field(default=None, description="Token for the evidence service.")
    submit_url: str | None = None
    service_url: str | None = Field(
        default=None, description="Evidence service URL for commands that take --service."
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

    def database_url_or_default(self) -> str:
        """The configured database URL (even an empty one, which `make_engine` refuses: a URL
        that is set never falls back to SQLite), or the SQLite file under the data directory."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'gatekeeper.db').resolve()}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with flag values (those not None) on top."""
    given = {key: value for key, value in overrides.items() if value is not None}
    return Settings(**given)
