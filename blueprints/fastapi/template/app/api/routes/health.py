"""Liveness and readiness probes for load balancers, Docker and the launch check."""

from fastapi import APIRouter, HTTPException
from sqlalchemy import text

from app.api.contract import errors
from app.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up (the database is not checked)."""
    return {"status": "ok"}


@router.get("/ready", responses=errors(503))
async def ready(db: SessionDep) -> dict[str, str]:
    """The app can serve requests: the database answers."""
    try:
        await db.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means "not ready"
        raise HTTPException(503, "The database is not reachable.") from error
    return {"status": "ready"}
