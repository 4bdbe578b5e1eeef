"""The app factory: `create_app(settings)` wires database, key, store and routers together."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import Depends, FastAPI
from sqlalchemy import Engine

from gatekeeper import __version__
from gatekeeper.config import Settings, load_settings
from gatekeeper.service import api_docs, pages, routers
from gatekeeper.service.confirm import build_confirmer
from gatekeeper.service.database import (
    make_data_dir,
    make_engine,
    require_current_schema,
    upgrade,
)
from gatekeeper.service.deps import ServiceContext
from gatekeeper.service.keyring import CurrentKey, load_signing_key
from gatekeeper.service.limits import Limits
from gatekeeper.service.middleware import Metrics, ServiceMiddleware, configure_json_logging
from gatekeeper.service.oidc import build_verifier
from gatekeeper.service.pages import report_routes
from gatekeeper.service.pages.security import SecurityHeaders
from gatekeeper.service.problems import install_error_handlers
from gatekeeper.service.query_guard import refuse_unknown_query
from gatekeeper.service.store import EvidenceStore
from gatekeeper.service.witnesses import load_witness_keys

_log = logging.getLogger(__name__)

_DESCRIPTION = """Gatekeeper's evidence service: stores in-toto statements signed in DSSE
envelopes (Ed25519) in an append-only RFC 6962 Merkle log, answers receipts, proofs, signed
checkpoints and export bundles that `gatekeeper verify` checks offline. Errors are
`{"error": {"code", "message"}}`."""


def open_engine(settings: Settings) -> Engine:
    """The engine, its schema checked (or, for the embedded SQLite default, upgraded)."""
    embedded = settings.database_url is None
    if embedded:
        make_data_dir(settings.data_dir)
    engine = make_engine(
        settings.database_url_or_default(), busy_timeout=settings.sqlite_busy_timeout
    )
    try:
        if embedded:
            upgrade(engine)
        else:
            require_current_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


@contextmanager
def engine_for(settings: Settings) -> Iterator[Engine]:
    """`open_engine` for one command: the engine is disposed when the block ends."""
    engine = open_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


def open_context(settings: Settings) -> ServiceContext:
    """Engine (see `open_engine`), current signing key and store."""
    engine = open_engine(settings)
    try:
        key = load_signing_key(engine, settings.data_dir, settings.signing_key_file)
    except BaseException:
        engine.dispose()
        raise
    metrics = Metrics()
    current = CurrentKey(engine, settings.data_dir, settings.signing_key_file, key)
    current.on_event = lambda event: metrics.key_events.labels(event=event).inc()
    store = EvidenceStore(engine, current, settings.log_origin)
    try:
        confirmer = build_confirmer(
            settings.providers,
            ttl=settings.confirm_cache_seconds,
            refuse_unreachable=settings.confirm_unreachable == "refuse",
        )
    except BaseException:
        engine.dispose()
        raise
    oidc = build_verifier(
        settings.oidc_issuers,
        leeway=settings.oidc_leeway,
        refresh_interval=settings.oidc_refresh_interval,
        max_age=settings.oidc_keys_max_age,
    )
    try:
        witness_keys = load_witness_keys(settings.witness_keys)
    except BaseException:
        engine.dispose()
        raise
    return ServiceContext(
        settings=settings,
        engine=engine,
        store=store,
        metrics=metrics,
        confirmer=confirmer,
        oidc=oidc,
        witness_keys=witness_keys,
        limits=Limits.from_settings(settings, engine),
    )


def create_app(settings: Settings) -> FastAPI:
    """The FastAPI app of the evidence service (reads no environment; `settings` says all)."""
    context = open_context(settings)
    app = FastAPI(
        title="Gatekeeper evidence service",
        version=__version__,
        description=_DESCRIPTION,
        docs_url=None,  # FastAPI's docs pages load their script from a CDN: api_docs instead
        redoc_url=None,
    )
    app.state.gatekeeper = context
    install_error_handlers(app)
    for module in (
        routers.evidence,
        routers.vsa,
        routers.policies,
        routers.log,
        routers.keys,
        routers.export,
        routers.reports,
        routers.health,
    ):
        app.include_router(module.router, dependencies=[Depends(refuse_unknown_query)])
    app.include_router(pages.router)  # HTML forms: pages read the fields they know
    app.include_router(report_routes.router)
    if settings.api_docs:
        app.include_router(api_docs.router)
    app.add_middleware(
        ServiceMiddleware, metrics=context.metrics, max_body_bytes=settings.max_body_bytes
    )
    app.add_middleware(SecurityHeaders)
    _log.info("evidence service ready (log size %d)", context.store.log_size())
    return app


def app_from_environment() -> FastAPI:
    """Entry point for uvicorn worker processes (`--factory`): settings from the environment."""
    configure_json_logging()
    return create_app(load_settings())
