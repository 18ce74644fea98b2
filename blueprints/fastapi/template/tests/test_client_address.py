"""Whose address the per-address limits count: X-Forwarded-For only from a trusted proxy.

A red-team run rotated X-Forwarded-For (the Dockerfile trusted every sender's) and got 20
wrong passwords with no 429 and 25 texts where the per-address limit is 20.
"""

import itertools

import pytest
from pydantic import ValidationError

from app.auth import limits
from app.core.config import Settings, settings
from tests.conftest import PROJECT
from tests.sign_in import client_from, use_up

BAD_REFRESH = {"refresh_token": "x" * 43}
fresh = (f"198.51.100.{n}" for n in itertools.count(1))


async def refresh_with(client, forwarded: str | None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return await client.post("/auth/refresh", json=BAD_REFRESH, headers=headers)


async def test_by_default_a_rotating_header_gains_nothing():
    assert settings.trusted_proxies == []
    await use_up(limits.REFRESH_PER_IP, "203.0.113.9", limits.REFRESH_PER_IP.count - 1)
    async with client_from("203.0.113.9") as client:
        assert (await refresh_with(client, next(fresh))).status_code == 401
        for _ in range(3):
            assert (await refresh_with(client, next(fresh))).status_code == 429


@pytest.fixture
def behind_a_proxy(monkeypatch):
    monkeypatch.setattr(settings, "trusted_proxies", ["10.0.0.0/8"])


async def test_behind_a_trusted_proxy_the_forwarded_caller_is_counted(behind_a_proxy):
    await use_up(limits.REFRESH_PER_IP, "203.0.113.7", limits.REFRESH_PER_IP.count)
    async with client_from("10.1.2.3") as proxy:
        # Another caller behind the same proxy is not held back by the first one's limit...
        assert (await refresh_with(proxy, "198.51.100.200")).status_code == 401
        # ...and the caller whose limit is used up is refused, whatever it writes to the left
        # of what the proxy appended.
        assert (await refresh_with(proxy, "203.0.113.7")).status_code == 429
        assert (await refresh_with(proxy, f"{next(fresh)}, 203.0.113.7")).status_code == 429
        # Proxies in a chain are skipped from the right; the first other address is the caller.
        assert (await refresh_with(proxy, "203.0.113.7, 10.9.9.9")).status_code == 429


async def test_a_header_from_an_untrusted_sender_is_ignored(behind_a_proxy):
    await use_up(limits.REFRESH_PER_IP, "192.0.2.50", limits.REFRESH_PER_IP.count)
    async with client_from("192.0.2.50") as outsider:
        assert (await refresh_with(outsider, next(fresh))).status_code == 429


def test_trusted_proxies_are_addresses_or_networks():
    assert Settings(trusted_proxies="10.0.0.0/8, 192.168.1.1").trusted_proxies == [
        "10.0.0.0/8",
        "192.168.1.1",
    ]
    with pytest.raises(ValidationError, match="TRUSTED_PROXIES"):
        Settings(trusted_proxies="*")


def test_the_image_lets_uvicorn_trust_no_proxy():
    """uvicorn's --forwarded-allow-ips='*' made every sender's X-Forwarded-For the address."""
    command = next(line for line in (PROJECT / "Dockerfile").read_text().splitlines() if line.startswith("CMD"))
    assert "--no-proxy-headers" in command
    assert "forwarded-allow-ips" not in command
