"""`/healthz`: is the process up and can it reach its database?"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from vectra.web.deps import DatabaseDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness and database check")
def healthz(database: DatabaseDep) -> JSONResponse:
    try:
        with database.app_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return JSONResponse(
            {"status": "error", "database": "unreachable", "detail": exc.__class__.__name__},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})
