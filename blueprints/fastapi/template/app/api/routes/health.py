"""Liveness and readiness probes for load balancers, Docker and the launch check; metrics."""

import hmac

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy import text

from app.api.contract import errors
from app.api.deps import BearerUser, SessionDep, get_admin, get_current_user
from app.core import metrics
from app.core.config import settings

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


async def metrics_reader(request: Request) -> None:
    """A Prometheus scraper with METRICS_TOKEN, or a signed-in admin; nobody else."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expected = settings.metrics_token
    if scheme.lower() == "bearer" and expected and hmac.compare_digest(token.encode(), expected.encode()):
        return
    await get_admin(await get_current_user(await BearerUser(auto_error=False)(request)))


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(metrics_reader)])
async def prometheus_metrics() -> Response:
    """Requests, latency, errors and the database pools of every worker (Prometheus text)."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)
