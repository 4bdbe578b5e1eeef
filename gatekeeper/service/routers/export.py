"""`/v1/export`: a zip bundle for offline verification (filled in when the bundle format lands)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/export", tags=["export"])
