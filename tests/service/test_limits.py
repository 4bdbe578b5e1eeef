"""Limits: a request rate per token, refused tokens per client address, records per project;
each answers 429 in the JSON error shape with Retry-After, and each is off or wide by default."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from gatekeeper.config import Settings
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from gatekeeper.service.limit_buckets import SharedRateLimiter
from gatekeeper.service.limits import RateLimiter
from tests.service.conftest import bearer
from tests.service.live import ApiClient, statement

_LISTING = "/v1/evidence?project=acme/widget"


@contextmanager
def _service(settings: Settings, **limits: Any) -> Iterator[tuple[ApiClient, str, str]]:
    """The app with `limits` set; yields a client, an admin token and a read token."""
    app = create_app(settings.model_copy(update=limits))
    engine = app.state.gatekeeper.engine
    admin = create_token(engine, ["admin"], [])[0]
    read = create_token(engine, ["read"], ["acme/widget"])[0]
    api = ApiClient(app)
    try:
        yield api, admin, read
    finally:
        api.close()
        engine.dispose()


def _store(api: ApiClient, token: str, n: int, project: str = "acme/widget") -> int:
    body = {"project": project, "statement": statement(n, project=project)}
    return api.post("/v1/evidence", json=body, headers=bearer(token)).status_code


def test_a_token_past_its_rate_gets_429_with_retry_after(settings: Settings) -> None:
    """With GATEKEEPER_RATE_LIMIT_PER_TOKEN=3 the fourth request of a token in the minute is
    a 429 with Retry-After; another token is not slowed down."""
    with _service(settings, rate_limit_per_token=3) as (api, admin, read):
        answers = [api.get(_LISTING, headers=bearer(read)) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        refused = answers[-1]
        assert refused.json()["error"]["code"] == "rate_limited"
        assert "more than 3 requests in a minute" in refused.json()["error"]["message"]
        assert 1 <= int(refused.headers["retry-after"]) <= 20
        assert _store(api, admin, 1) == 201


def test_refused_tokens_block_their_address_not_others(settings: Settings) -> None:
    """After GATEKEEPER_AUTH_FAILURES_PER_ADDRESS refused tokens from one client address (behind
    a trusted proxy), that address gets 429 even with a good token; another address does not."""
    limits = {"auth_failures_per_address": 3, "trusted_proxies": ["127.0.0.1"]}
    with _service(settings, **limits) as (api, _admin, read):
        guesser = {"X-Forwarded-For": "203.0.113.9"}
        wrong = {**bearer("gk_0000_guess"), **guesser}
        codes = [api.get(_LISTING, headers=wrong).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        blocked = api.get(_LISTING, headers={**bearer(read), **guesser})
        assert blocked.status_code == 429
        assert "too many refused tokens" in blocked.json()["error"]["message"]
        assert int(blocked.headers["retry-after"]) >= 1
        other = {**bearer(read), "X-Forwarded-For": "198.51.100.7"}
        assert api.get(_LISTING, headers=other).status_code == 200


def test_refused_sign_ins_block_their_address_on_the_pages(settings: Settings) -> None:
    """The pages' sign-in counts refused tokens per address like the API: past the limit the
    form answers 429 with Retry-After, even for a good token; another address signs in."""
    limits = {"auth_failures_per_address": 2, "trusted_proxies": ["127.0.0.1"]}
    with _service(settings, **limits) as (api, _admin, read):
        guesser = {"X-Forwarded-For": "203.0.113.9"}
        codes = [
            api.post("/ui/login", data={"token": "gk_0000_guess"}, headers=guesser).status_code
            for _ in range(3)
        ]
        assert codes == [401, 401, 429]
        blocked = api.post("/ui/login", data={"token": read}, headers=guesser)
        assert blocked.status_code == 429
        assert "too many refused tokens" in blocked.text
        assert int(blocked.headers["retry-after"]) >= 1
        other = api.post(
            "/ui/login", data={"token": read}, headers={"X-Forwarded-For": "198.51.100.7"}
        )
        assert other.status_code == 303


def test_a_project_at_its_quota_gets_429_but_resends_stay_idempotent(settings: Settings) -> None:
    """With GATEKEEPER_PROJECT_QUOTA_RECORDS=2 a third new statement of a project is a 429 naming
    the quota; resending a stored one still answers 200, and other projects still store."""
    with _service(settings, project_quota_records=2) as (api, admin, _read):
        assert [_store(api, admin, n) for n in range(2)] == [201, 201]
        body = {"project": "acme/widget", "statement": statement(2)}
        refused = api.post("/v1/evidence", json=body, headers=bearer(admin))
        assert refused.status_code == 429
        assert "holds 2 records, its quota" in refused.json()["error"]["message"]
        assert int(refused.headers["retry-after"]) > 60
        assert _store(api, admin, 0) == 200
        assert _store(api, admin, 5, project="acme/other") == 201


def test_limits_are_off_or_wide_by_default(settings: Settings) -> None:
    """Without settings there is no rate per token or quota; thirty refused tokens per minute
    are allowed per address."""
    assert (settings.rate_limit_per_token, settings.project_quota_records) == (None, None)
    assert settings.auth_failures_per_address == 30
    with _service(settings) as (api, admin, read):
        assert all(api.get("/v1/keys", headers=bearer(read)).status_code == 200 for _ in range(50))
        assert [_store(api, admin, n) for n in range(3)] == [201, 201, 201]


def test_a_bucket_refills_with_time() -> None:
    """A limiter of 2 per minute refuses the third event, says when one is free, and allows
    one again after that time (a clock handed in, no sleeping)."""
    now = [100.0]
    limiter = RateLimiter(2, 60.0, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a")] == [None, None]
    wait = limiter.take("a")
    assert wait is not None
    assert 29 < wait <= 30
    assert limiter.wait("b") is None
    now[0] += wait
    assert limiter.wait("a") is None
    assert limiter.take("a") is None


def test_limits_hold_across_processes_sharing_the_database(settings: Settings) -> None:
    """Two service instances on one database (as `serve --workers 2` or two hosts) share the
    counts: a rate of 3 per token is 3 in all, and refused tokens from one address on either
    instance block it on both."""
    limits = {
        "rate_limit_per_token": 3,
        "auth_failures_per_address": 2,
        "trusted_proxies": ["127.0.0.1"],
    }
    with _service(settings, **limits) as (first, _admin, read):
        second_app = create_app(settings.model_copy(update=limits))
        second = ApiClient(second_app)
        try:
            both = (first, second, first, second)
            codes = [api.get(_LISTING, headers=bearer(read)).status_code for api in both]
            assert codes == [200, 200, 200, 429]
            guesser = {**bearer("gk_0000_guess"), "X-Forwarded-For": "203.0.113.9"}
            assert first.get(_LISTING, headers=guesser).status_code == 401
            assert second.get(_LISTING, headers=guesser).status_code == 401
            assert first.get(_LISTING, headers=guesser).status_code == 429
            assert second.get(_LISTING, headers=guesser).status_code == 429
        finally:
            second.close()
            second_app.state.gatekeeper.engine.dispose()


def test_a_shared_bucket_refills_with_time(settings: Settings) -> None:
    """The database bucket refuses the third of 2 events per minute, says when one is free and
    allows one after that time; another key is untouched (a clock handed in, no sleeping)."""
    app = create_app(settings)
    now = [1_767_225_600.0]
    limiter = SharedRateLimiter(app.state.gatekeeper.engine, "test", 2, 60.0, lambda: now[0])
    try:
        assert [limiter.take("a"), limiter.take("a")] == [None, None]
        wait = limiter.take("a")
        assert wait is not None
        assert 29 < wait <= 30
        assert limiter.wait("a") == wait
        assert limiter.wait("b") is None
        now[0] += wait
        assert limiter.wait("a") is None
        assert limiter.take("a") is None
        assert limiter.take("a") is not None
        now[0] -= 3600  # another host's clock behind: no refill, no negative count
        assert limiter.take("a") is not None
    finally:
        app.state.gatekeeper.engine.dispose()
