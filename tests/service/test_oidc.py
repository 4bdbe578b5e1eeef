"""CI ID tokens as bearer tokens: a loopback OIDC issuer, every refusal, the submitter, caching."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI

from gatekeeper.attest.predicate import read_predicate
from gatekeeper.config import OidcIssuer, Settings, load_settings
from gatekeeper.errors import UsageError
from gatekeeper.service import create_app
from gatekeeper.service.auth import create_token
from gatekeeper.service.oidc import IdTokenRefused, OidcVerifier
from tests.fakes.oidc import GITLAB_CLAIMS, FakeOidcIssuer
from tests.service.conftest import bearer
from tests.service.live import ApiClient, statement


@pytest.fixture(scope="module")
def issuer() -> Iterator[FakeOidcIssuer]:
    with FakeOidcIssuer() as fake:
        assert isinstance(fake, FakeOidcIssuer)
        yield fake


@pytest.fixture
def oidc_settings(settings: Settings, issuer: FakeOidcIssuer) -> Settings:
    config = OidcIssuer(issuer=issuer.issuer, audience="gatekeeper", project_claim="repository")
    return settings.model_copy(update={"oidc_issuers": (config,)})


@pytest.fixture
def oidc_app(oidc_settings: Settings) -> Iterator[FastAPI]:
    application = create_app(oidc_settings)
    yield application
    application.state.gatekeeper.engine.dispose()


@pytest.fixture
def oidc_api(oidc_app: FastAPI) -> Iterator[ApiClient]:
    client = ApiClient(oidc_app)
    yield client
    client.close()


def _post(api: ApiClient, token: str, n: int = 0, project: str = "acme/widget") -> Any:
    return api.post(
        "/v1/evidence",
        json={"project": project, "statement": statement(n, project=project)},
        headers=bearer(token),
    )


def _message(response: Any) -> str:
    return str(response.json()["error"]["message"])


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_an_id_token_stores_evidence_with_its_claims_as_submitter(
    oidc_api: ApiClient, issuer: FakeOidcIssuer, algorithm: str
) -> None:
    """A GitHub-shaped RS256 or ES256 token ingests for its repository; the signed payload
    names the verified claims as the submitter, whatever the sender wrote there."""
    sent = statement(1)
    sent["predicate"]["submitter"] = {"kind": "token", "token_id": "forged"}
    response = oidc_api.post(
        "/v1/evidence",
        json={"project": "acme/widget", "statement": sent},
        headers=bearer(issuer.mint(algorithm=algorithm)),
    )
    assert response.status_code == 201, response.text
    envelope = response.json()["envelope"]
    signed = json.loads(base64.b64decode(envelope["payload"]))
    assert signed["predicate"]["submitter"] == {
        "kind": "oidc",
        "issuer": issuer.issuer,
        "claims": {
            "subject": "repo:acme/widget:ref:refs/heads/main",
            "repository": "acme/widget",
            "ref": "refs/heads/main",
            "sha": "a" * 40,
            "workflow_ref": "acme/widget/.github/workflows/gate.yml@refs/heads/main",
            "run_id": "4242",
            "actor": "octocat",
            "runner_environment": "github-hosted",
            "event": "push",
        },
    }
    typed = read_predicate(signed["predicateType"], signed["predicate"])
    assert typed.submitter is not None
    assert typed.submitter.claims is not None
    assert typed.submitter.claims["actor"] == "octocat"


def test_an_id_token_ingests_only_for_the_project_its_claim_names(
    oidc_api: ApiClient, issuer: FakeOidcIssuer
) -> None:
    response = _post(oidc_api, issuer.mint(), project="other/secret")
    assert response.status_code == 403
    assert "other/secret" in _message(response)


def test_an_id_token_cannot_read(oidc_api: ApiClient, issuer: FakeOidcIssuer) -> None:
    response = oidc_api.get("/v1/evidence?project=acme/widget", headers=bearer(issuer.mint()))
    assert response.status_code == 403


def _hs256_with_public_key(issuer: FakeOidcIssuer) -> str:
    public = issuer.key("RS256").private.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}
    body = {**_claims(issuer), "repository": "acme/widget"}
    # PyJWT refuses to sign with a PEM as HMAC secret: build the forgery by hand, as an attacker
    segments = [_b64(json.dumps(header).encode()), _b64(json.dumps(body).encode())]
    mac = hmac.new(pem, ".".join(segments).encode(), hashlib.sha256).digest()
    return ".".join([*segments, _b64(mac)])


def _alg_none(issuer: FakeOidcIssuer) -> str:
    header = {"alg": "none", "typ": "JWT", "kid": "rsa-1"}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims(issuer)).encode())}."


def _claims(issuer: FakeOidcIssuer) -> dict[str, Any]:
    token = issuer.mint()
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _bad_signature(issuer: FakeOidcIssuer) -> str:
    head, body, signature = issuer.mint().split(".")
    other = issuer.mint({"repository": "acme/widget", "sub": "x", "run_id": "1"}).split(".")[2]
    assert other != signature
    return f"{head}.{body}.{other}"


REFUSALS = {
    "expired": (lambda i: i.mint(issued_offset=-3600, lifetime=600), "expired"),
    "nbf in the future": (lambda i: i.mint(nbf=int(time.time()) + 3600), "not valid yet"),
    "iat in the future": (lambda i: i.mint(issued_offset=3600), "not valid yet"),
    "wrong audience": (lambda i: i.mint(audience="someone-else"), "another audience"),
    "unknown issuer": (lambda i: i.mint(issuer="https://evil.example"), "not trusted"),
    "bad signature": (_bad_signature, "signature does not verify"),
    "alg none": (_alg_none, "not accepted"),
    "HS256 with the public key": (_hs256_with_public_key, "not accepted"),
    "another key's signature": (lambda i: i.mint(kid="ec-1"), "refused"),
    "no project claim": (lambda i: i.mint({"sub": "repo:x"}), "no repository claim"),
    "garbage": (lambda i: "eyJhbGciOi.not.ajwt", "not a well-formed JWT"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_every_refusal_is_a_401_problem(
    oidc_api: ApiClient, oidc_app: FastAPI, issuer: FakeOidcIssuer, case: str
) -> None:
    """Each bad token: 401 with a JSON error naming what is wrong, nothing stored."""
    make, words = REFUSALS[case]
    response = _post(oidc_api, make(issuer))
    assert response.status_code == 401, response.text
    assert words in _message(response)
    assert response.headers["content-type"].startswith("application/json")
    admin = create_token(oidc_app.state.gatekeeper.engine, ["admin"], [])[0]
    listed = oidc_api.get("/v1/evidence?project=acme/widget", headers=bearer(admin))
    assert listed.json()["records"] == []


def test_a_service_without_issuers_refuses_id_tokens(api: ApiClient) -> None:
    with FakeOidcIssuer() as fake:
        assert isinstance(fake, FakeOidcIssuer)
        response = _post(api, fake.mint())
    assert response.status_code == 401
    assert "GATEKEEPER_OIDC_ISSUERS" in _message(response)


def test_an_api_token_submission_records_the_token_id_and_name(
    api: ApiClient, app: FastAPI
) -> None:
    token, info = create_token(app.state.gatekeeper.engine, ["ingest"], ["acme/widget"])
    response = _post(api, token)
    assert response.status_code == 201
    signed = json.loads(base64.b64decode(response.json()["envelope"]["payload"]))
    assert signed["predicate"]["submitter"] == {"kind": "token", "token_id": info.token_id}


# -- keys: cached, refreshed on rotation, bounded under a flood of unknown kids ---------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _verifier(issuer: FakeOidcIssuer, clock: _Clock, **kwargs: Any) -> OidcVerifier:
    config = OidcIssuer(issuer=issuer.issuer, audience="gatekeeper", project_claim="repository")
    return OidcVerifier((config,), clock=clock, refresh_interval=60.0, **kwargs)


def test_keys_are_cached_not_fetched_per_request(
    oidc_api: ApiClient, oidc_app: FastAPI, issuer: FakeOidcIssuer
) -> None:
    before = issuer.jwks_fetches
    for n in range(20):
        assert _post(oidc_api, issuer.mint(), n=100 + n).status_code == 201
    assert issuer.jwks_fetches - before == 1
    assert oidc_app.state.gatekeeper.oidc.fetches == 1


def test_a_flood_of_unknown_kids_fetches_once_per_interval(issuer: FakeOidcIssuer) -> None:
    """200 tokens naming made-up kids: one JWKS fetch, the next only after the interval."""
    clock = _Clock()
    verifier = _verifier(issuer, clock)
    verifier.verify(issuer.mint())
    before = issuer.jwks_fetches
    clock.now += 61  # past the refresh interval: the first unknown kid may refresh, once
    for n in range(200):
        with pytest.raises(IdTokenRefused, match="not one of its issuer's keys"):
            verifier.verify(issuer.mint(kid=f"made-up-{n}"))
    assert issuer.jwks_fetches - before == 1
    clock.now += 61
    with pytest.raises(IdTokenRefused):
        verifier.verify(issuer.mint(kid="made-up-again"))
    assert issuer.jwks_fetches - before == 2


def test_a_rotated_key_is_found_by_a_refresh(issuer: FakeOidcIssuer) -> None:
    clock = _Clock()
    verifier = _verifier(issuer, clock)
    verifier.verify(issuer.mint())
    issuer.rotate()
    clock.now += 61
    identity = verifier.verify(issuer.mint())
    assert identity.project == "acme/widget"
    assert verifier.fetches == 2


def test_old_keys_are_reread_after_their_max_age(issuer: FakeOidcIssuer) -> None:
    clock = _Clock()
    verifier = _verifier(issuer, clock, max_age=600.0)
    old_token = issuer.mint()
    verifier.verify(old_token)
    issuer.rotate()
    clock.now += 601
    with pytest.raises(IdTokenRefused, match="not one of its issuer's keys"):
        verifier.verify(old_token)  # the retired key is gone once the keys are re-read


def test_an_unreachable_issuer_is_a_503_and_bounded(tmp_path: Path) -> None:
    with FakeOidcIssuer() as fake:
        assert isinstance(fake, FakeOidcIssuer)
        token = fake.mint()
        clock = _Clock()
        verifier = _verifier(fake, clock)
        fake.fail(500, times=None)
        for _ in range(5):
            with pytest.raises(IdTokenRefused, match="cannot be read now") as refused:
                verifier.verify(token)
            assert refused.value.status == 503
        assert fake.count("GET") == 1


def test_a_gitlab_token_names_its_project_path(issuer: FakeOidcIssuer) -> None:
    config = OidcIssuer(issuer=issuer.issuer, audience="gl", project_claim="project_path")
    identity = OidcVerifier((config,)).verify(issuer.mint(GITLAB_CLAIMS, audience="gl"))
    assert identity.project == "acme/platform/widget"
    assert identity.submitter["pipeline_id"] == "991"
    assert identity.submitter["run_id"] == "5150"
    assert identity.submitter["actor"] == "tanuki"
    assert identity.submitter["runner_environment"] == "gitlab-hosted"
    assert "workflow_ref" not in identity.submitter


# -- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issuer_url", "ok"),
    [
        ("http://gitlab.example.com", False),
        ("http://10.0.0.1:8080", False),
        ("ftp://127.0.0.1", False),
        ("https://token.actions.githubusercontent.com", True),
        ("http://127.0.0.1:9999", True),
        ("http://[::1]:9999", True),
        ("http://localhost:9999", True),
    ],
)
def test_http_issuers_are_refused_at_settings_load_unless_loopback(
    monkeypatch: pytest.MonkeyPatch, issuer_url: str, ok: bool
) -> None:
    value = [{"issuer": issuer_url, "audience": "gatekeeper", "project_claim": "repository"}]
    monkeypatch.setenv("GATEKEEPER_OIDC_ISSUERS", json.dumps(value))
    if ok:
        assert load_settings().oidc_issuers[0].issuer == issuer_url
        return
    with pytest.raises(UsageError, match=r"GATEKEEPER_OIDC_ISSUERS\.0\.issuer is invalid"):
        load_settings()


def test_an_unknown_project_claim_is_refused_at_settings_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    value = [{"issuer": "https://x.example", "audience": "a", "project_claim": "sub"}]
    monkeypatch.setenv("GATEKEEPER_OIDC_ISSUERS", json.dumps(value))
    with pytest.raises(UsageError, match="project_claim"):
        load_settings()
