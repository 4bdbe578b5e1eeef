"""The practical limit for the ingest benchmark: a bare FastAPI endpoint that inserts the request
bytes into one table, with no parsing, signing or log (same database settings as the service)."""

from __future__ import annotations

import os
import uuid

from fastapi import FastAPI, Request, Response
from sqlalchemy import Column, LargeBinary, MetaData, String, Table, insert

from gatekeeper.service.database import WRITER, make_engine

_metadata = MetaData()
_blobs = Table(
    "bare_blobs",
    _metadata,
    Column("id", String(36), primary_key=True),
    Column("body", LargeBinary, nullable=False),
)


def create_bare_app() -> FastAPI:
    """The bare app on the database named by BARE_DATABASE_URL."""
    engine = make_engine(os.environ["BARE_DATABASE_URL"])
    _metadata.create_all(engine)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/evidence", status_code=201)
    async def store(request: Request) -> Response:
        body = await request.body()
        with engine.connect() as connection, connection.execution_options(**WRITER).begin():
            connection.execute(insert(_blobs).values(id=str(uuid.uuid4()), body=body))
        return Response(b'{"stored": true}', status_code=201, media_type="application/json")

    return app
