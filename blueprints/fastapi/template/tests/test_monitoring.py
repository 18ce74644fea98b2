"""Monitoring: alerts reach a local webhook, grouped and never in the way; Sentry events carry
no secrets; metrics are for admins and add up across workers; the /ready watcher."""

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid

import pytest
from fastapi import APIRouter, HTTPException
from sqlalchemy.ext.asyncio import create_async_engine

from app.core import alerts, metrics, monitoring
from app.core.config import settings
from app.main import app
from tests.conftest import PROJECT
from tests.receivers import SentryIngest, Webhook

# Nothing here depends on which database runs: the SQLite run covers it, and a run on
# PostgreSQL (DATABASE_URL) is not made slower by it.
pytestmark = pytest.mark.skipif(
    not settings.is_sqlite, reason="monitoring does not depend on the database"
)
SECRETS = ["alice@example.com", "hunter2-secret-value", "424242"]
failing = APIRouter(prefix="/test-monitoring", include_in_schema=False)  # not the contract


@failing.get("/boom/{tag}")
async def boom(tag: str) -> None:
    raise ValueError(f"the same failure every time ({tag})")


@failing.get("/unavailable")
async def unavailable() -> None:
    raise HTTPException(503, "An upstream service is down.")


@failing.post("/leaky")
async def leaky(body: dict[str, str]) -> None:
    password = body["password"]  # noqa: F841 - a local variable Sentry would report
    raise RuntimeError(f"sign-in failed for alice@example.com with password={password}, code 424242")


app.include_router(failing)


@pytest.fixture
def webhook(monkeypatch, tmp_path):
    receiver = Webhook()
    monkeypatch.setattr(settings, "alert_url", receiver.url)
    monkeypatch.setattr(settings, "alert_delay_seconds", 0.2)
    monkeypatch.setattr(settings, "monitoring_dir", str(tmp_path))
    alerts.alerter.forget()
    yield receiver
    receiver.close()


async def test_deliberate_errors_with_the_same_group_are_identical(
    client, admin, webhook, monkeypatch
):
    monkeypatch.setattr(settings, "alert_delay_seconds", 1.0)
    answers = await asyncio.gather(
        *(
            client.post("/dev/error?same=g1", headers={**admin.headers, "X-Request-ID": rid})
            for rid in ("same-1", "same-2")
        )
    )
    assert [answer.status_code for answer in answers] == [500, 500]
    await asyncio.to_thread(webhook.wait_for, 1)
    [alert] = webhook.messages()
    assert "Happened 2 times" in alert["message"]
    refused = await client.post("/dev/error?same=not%20a%20word", headers=admin.headers)
    assert refused.status_code == 422


async def test_an_unhandled_error_reaches_the_webhook_with_its_request_id(client, admin, webhook):
    started = time.monotonic()
    answer = await client.post("/dev/error", headers={**admin.headers, "X-Request-ID": "err-one"})
    assert answer.status_code == 500
    assert answer.headers["X-Request-ID"] == "err-one"
    assert "reported" in answer.json()["detail"]
    [message] = await asyncio.to_thread(webhook.wait_for, 1)
    assert time.monotonic() - started < 10
    alert = webhook.messages()[0]
    assert "DeliberateError on POST /dev/error" in alert["title"]
    assert "err-one" in alert["message"] and "Happened once" in alert["message"]
    for _ in range(50):  # recorded once apprise has the destination's answer
        sent = (await client.get("/dev/alerts", headers=admin.headers)).json()
        if sent:
            break
        await asyncio.sleep(0.1)
    assert sent[0]["request_ids"] == ["err-one"] and sent[0]["delivered"] is True


async def test_fifty_identical_errors_in_a_minute_are_one_alert_with_the_count(
    client, webhook, monkeypatch
):
    monkeypatch.setattr(settings, "alert_delay_seconds", 3.0)
    tag = uuid.uuid4().hex[:8]
    answers = await asyncio.gather(
        *(
            client.get(f"/test-monitoring/boom/{tag}", headers={"X-Request-ID": f"r{number}"})
            for number in range(50)
        )
    )
    assert {answer.status_code for answer in answers} == {500}
    await asyncio.to_thread(webhook.wait_for, 1)
    await asyncio.sleep(0.5)  # anything else would have arrived by now
    [alert] = webhook.messages()
    assert "Happened 50 times" in alert["message"]
    ids = alert["message"].split("Request id: ")[1].split(", ")
    assert len(ids) == 3 and all(re.fullmatch(r"r\d+", rid) for rid in ids)  # first two, latest


def test_identical_errors_on_two_workers_are_one_alert_with_the_count(webhook, monkeypatch):
    """The workers of one server group together: two alerters, as two worker processes have,
    sharing nothing but monitoring_dir (its file lock holds between threads as between
    processes), see 2 x 25 identical errors and send one alert. The Docker staging test of
    Shipyard does it with real uvicorn workers."""
    monkeypatch.setattr(settings, "alert_delay_seconds", 0.5)
    workers = {"a": alerts.Alerter(), "b": alerts.Alerter()}
    for number in range(25):
        for name, worker in workers.items():
            worker.report("error:same", "ValueError on GET /same", "Same", f"{name}{number}")
    webhook.wait_for(1)
    time.sleep(0.5)  # a second alert would have arrived by now
    [alert] = webhook.messages()
    assert "Happened 50 times so far" in alert["message"], alert["message"]
    ids = alert["message"].split("Request id: ")[1].split(", ")
    assert len(ids) == 3 and {rid[0] for rid in ids} == {"a", "b"}  # both workers counted


def test_a_burst_still_going_is_sent_once_it_pauses_or_six_delays_after_it_began(
    monkeypatch, tmp_path
):
    """The shared groups on a clock of our own: news at 0 s, 4.5 s and 5.5 s (delay 5 s)
    are one alert at 7.5 s (two seconds of quiet) counting all of them; a burst that never
    pauses goes out at 30 s."""
    monkeypatch.setattr(settings, "alert_delay_seconds", 5.0)
    monkeypatch.setattr(settings, "monitoring_dir", str(tmp_path))

    def news(count: int) -> dict[str, alerts.Seen]:
        return {"k": alerts.Seen("Same", "body", 1, count, ["r"])}

    assert alerts.merge(news(20), 0.0)[0] == []
    assert alerts.merge(news(20), 4.5)[0] == []
    assert alerts.merge(news(10), 5.5)[0] == []  # past the delay, but still happening
    assert alerts.merge({}, 7.0)[0] == []
    [alert] = alerts.merge({}, 7.5)[0]
    assert alert.count == 50

    (tmp_path / alerts.GROUPS_FILE).unlink()
    for second in range(30):
        assert alerts.merge(news(1), 100.0 + second)[0] == []
    [alert] = alerts.merge(news(1), 130.0)[0]
    assert alert.count == 31


async def test_a_burst_of_5xx_answers_is_one_alert(client, webhook, monkeypatch):
    monkeypatch.setattr(settings, "alert_5xx_burst", 5)
    for _ in range(12):
        assert (await client.get("/test-monitoring/unavailable")).status_code == 503
    await asyncio.to_thread(webhook.wait_for, 1)
    await asyncio.sleep(0.4)
    [alert] = webhook.messages()
    assert "many requests are failing" in alert["title"]
    assert "GET /test-monitoring/unavailable" in alert["message"]


async def test_a_slow_destination_never_slows_the_request(client, monkeypatch, tmp_path):
    slow = Webhook(delay=1.0)
    monkeypatch.setattr(settings, "alert_url", slow.url)
    monkeypatch.setattr(settings, "alert_delay_seconds", 0.0)
    monkeypatch.setattr(settings, "monitoring_dir", str(tmp_path))
    try:
        started = time.monotonic()
        for _ in range(3):
            await client.get("/test-monitoring/boom/slow")
        assert time.monotonic() - started < 0.9
        assert len(await asyncio.to_thread(slow.wait_for, 1)) == 1
    finally:
        alerts.alerter.forget()
        slow.close()


async def test_sentry_events_and_alerts_carry_the_request_id_and_no_secrets(
    client, webhook, monkeypatch
):
    import sentry_sdk

    ingest = SentryIngest()
    monkeypatch.setattr(settings, "sentry_dsn", ingest.dsn)
    monitoring.start_sentry()
    try:
        answer = await client.post(
            "/test-monitoring/leaky",
            json={"password": "hunter2-secret-value"},
            headers={"X-Request-ID": "leak-1", "Authorization": "Bearer hunter2-secret-value"},
        )
        assert answer.status_code == 500
        sentry_sdk.flush(timeout=5)
        await asyncio.to_thread(ingest.wait_for, 1)
        await asyncio.to_thread(webhook.wait_for, 1)
    finally:
        sentry_sdk.get_client().close()
        ingest.close()
    [event] = ingest.events()
    assert event["tags"]["request_id"] == "leak-1"
    # The app noted that the ingest endpoint took it: what the launch check asks.
    assert {"request_ids": ["leak-1"], "status": 200, "accepted": True}.items() <= (
        monitoring.recent_sentry()[0].items()
    )
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert settings.sentry_traces_sample_rate < 1
    for raw in [*ingest.bodies, *webhook.bodies]:
        for secret in SECRETS:
            at = raw.find(secret.encode())
            assert at < 0, raw[max(0, at - 300) : at + 50]
    assert "leak-1" in webhook.messages()[0]["message"]


async def test_metrics_are_refused_to_anyone_but_admins_and_the_scraper(
    client, people, monkeypatch
):
    monkeypatch.setattr(settings, "metrics_token", "scraper-token-" + "x" * 20)
    await client.get("/health")
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers=people["owner"].headers)).status_code == 403
    wrong = {"Authorization": "Bearer not-the-token"}
    assert (await client.get("/metrics", headers=wrong)).status_code == 401
    scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {settings.metrics_token}"})
    assert scraped.status_code == 200
    admin = await client.get("/metrics", headers=people["admin"].headers)
    assert 'http_requests_total{method="GET",route="/health",status="200"}' in admin.text
    assert "http_request_duration_seconds_bucket" in admin.text


def test_metrics_add_up_across_worker_processes(tmp_path, monkeypatch):
    """Each worker writes its own files to PROMETHEUS_MULTIPROC_DIR; a scrape adds them up."""
    folder = tmp_path / "prometheus"
    record = (
        "from app.core import metrics\n"
        "for _ in range(20): metrics.observe('GET', '/health', 200, 0.01)\n"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    workers = [
        subprocess.Popen([sys.executable, "-c", record], cwd=PROJECT, env=env) for _ in range(2)
    ]
    assert [worker.wait(timeout=60) for worker in workers] == [0, 0]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    text = metrics.exposition()[0].decode()
    assert 'http_requests_total{method="GET",route="/health",status="200"} 40.0' in text
    assert len(list(folder.glob("counter_*.db"))) == 2


async def test_the_ready_watcher_alerts_after_failing_and_on_recovery(webhook, monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "ready_watch_seconds", 0.1)
    monkeypatch.setattr(settings, "ready_alert_after_seconds", 0.5)
    # A real engine for a database that cannot be opened: the watcher sees what it would see
    # if the server were down.
    gone = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'x.db'}")
    working = monitoring.engine
    monkeypatch.setattr(monitoring, "engine", gone)
    watcher = asyncio.create_task(monitoring.watch_ready())
    try:
        await asyncio.to_thread(webhook.wait_for, 1)
        assert len(webhook.messages()) == 1, "one alert however long it is down"
        assert "not ready" in webhook.messages()[0]["title"]
        monkeypatch.setattr(monitoring, "engine", working)
        await asyncio.to_thread(webhook.wait_for, 2)
        assert "recovered" in webhook.messages()[1]["title"]
        await asyncio.sleep(0.5)
        assert len(webhook.messages()) == 2
    finally:
        watcher.cancel()
        await gone.dispose()
    assert [entry["delivered"] for entry in alerts.recent()] == [True, True]


def test_the_alert_test_command_reaches_the_destination_through_the_settings(
    monkeypatch, tmp_path, capsys
):
    from app.__main__ import main

    receiver = Webhook()
    monkeypatch.setattr(settings, "alert_url", receiver.url)
    monkeypatch.setattr(settings, "monitoring_dir", str(tmp_path))
    try:
        assert main(["alert-test", "--json"]) == 0
        assert '"delivered": true' in capsys.readouterr().out
        [message] = receiver.messages()
        assert "test alert" in message["title"]
        monkeypatch.setattr(settings, "alert_url", "not a url")
        assert main(["alert-test", "--json"]) == 1
        assert "not an apprise URL" in capsys.readouterr().out
    finally:
        receiver.close()
