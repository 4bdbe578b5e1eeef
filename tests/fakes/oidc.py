"""A loopback OIDC issuer: discovery + JWKS, real RS256/ES256 ID tokens, key rotation, fetch counts.

It mints tokens shaped like GitHub Actions' (`repository`, `workflow_ref`, `run_id`, ...) or
GitLab CI's (`project_path`, `pipeline_id`, `job_id`, ...), signed with `cryptography` keys, and
serves the GitHub Actions ID-token request endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL`) as well.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.fakes._server import FakeServer, Reply

GITHUB_CLAIMS: dict[str, Any] = {
    "sub": "repo:acme/widget:ref:refs/heads/main",
    "repository": "acme/widget",
    "repository_owner": "acme",
    "ref": "refs/heads/main",
    "sha": "a" * 40,
    "workflow_ref": "acme/widget/.github/workflows/gate.yml@refs/heads/main",
    "run_id": "4242",
    "run_attempt": "1",
    "actor": "octocat",
    "event_name": "push",
    "runner_environment": "github-hosted",
}
GITLAB_CLAIMS: dict[str, Any] = {
    "sub": "project_path:acme/platform/widget:ref_type:branch:ref:main",
    "project_path": "acme/platform/widget",
    "project_id": "17",
    "namespace_path": "acme/platform",
    "ref": "main",
    "ref_type": "branch",
    "sha": "b" * 40,
    "pipeline_id": "991",
    "pipeline_source": "merge_request_event",
    "job_id": "5150",
    "user_login": "tanuki",
    "runner_environment": "gitlab-hosted",
}
REQUEST_TOKEN = "fake-actions-request-token"


@dataclass
class SigningKey:
    kid: str
    algorithm: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def jwk(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            jwt.get_algorithm_by_name(self.algorithm).to_jwk(self.private.public_key())
        )
        return {**data, "kid": self.kid, "use": "sig", "alg": self.algorithm}


def new_key(algorithm: str, kid: str) -> SigningKey:
    """A fresh RSA-2048 (RS256) or P-256 (ES256) key."""
    if algorithm == "ES256":
        return SigningKey(kid, algorithm, ec.generate_private_key(ec.SECP256R1()))
    return SigningKey(
        kid, algorithm, rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )


class FakeOidcIssuer(FakeServer):
    """Serves `/.well-known/openid-configuration` and `/jwks`; `mint` signs ID tokens."""

    def __init__(self) -> None:
        super().__init__()
        self.keys = [new_key("RS256", "rsa-1"), new_key("ES256", "ec-1")]
        self.audience_requests: list[str] = []
        self.route("GET", r"/\.well-known/openid-configuration", self._discovery)
        self.route("GET", r"/jwks", self._jwks)
        self.route("GET", r"/_actions/token", self._actions_token)
        self.request_tokens: dict[str, dict[str, Any]] = {REQUEST_TOKEN: dict(GITHUB_CLAIMS)}

    @property
    def issuer(self) -> str:
        return self.root

    @property
    def jwks_fetches(self) -> int:
        return self.count("GET", "/jwks")

    @property
    def actions_request_url(self) -> str:
        """What GitHub Actions puts in ACTIONS_ID_TOKEN_REQUEST_URL (a query already there)."""
        return f"{self.root}/_actions/token?api-version=2.0"

    def github_job(self, **claims: Any) -> dict[str, str]:
        """The variables GitHub Actions gives a job with `id-token: write` whose token carries
        GitHub's claims with `claims` on top (e.g. repository=...)."""
        request_token = f"request-{len(self.request_tokens)}-{time.monotonic_ns()}"
        self.request_tokens[request_token] = {**GITHUB_CLAIMS, **claims}
        return {
            "ACTIONS_ID_TOKEN_REQUEST_URL": self.actions_request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": request_token,
        }

    def key(self, algorithm: str) -> SigningKey:
        return next(key for key in self.keys if key.algorithm == algorithm)

    def rotate(self) -> SigningKey:
        """Replaces the RSA key with a new one (new kid); the old one is no longer served."""
        old = self.key("RS256")
        fresh = new_key("RS256", f"rsa-{len(self.requests)}-{time.monotonic_ns()}")
        self.keys = [fresh if key is old else key for key in self.keys]
        return fresh

    def mint(
        self,
        claims: dict[str, Any] | None = None,
        *,
        audience: str = "gatekeeper",
        algorithm: str = "RS256",
        lifetime: int = 300,
        issued_offset: int = 0,
        kid: str | None = None,
        key: Any = None,
        issuer: str | None = None,
        **extra: Any,
    ) -> str:
        """A signed ID token of this issuer (GitHub-shaped claims unless `claims` is given)."""
        now = int(time.time()) + issued_offset
        payload = {
            **(claims if claims is not None else GITHUB_CLAIMS),
            "iss": issuer or self.issuer,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            **extra,
        }
        signing = self.key("ES256" if algorithm == "ES256" else "RS256")
        headers = {"kid": kid or signing.kid}
        return jwt.encode(
            payload, key if key is not None else signing.private, algorithm, headers=headers
        )

    def _discovery(self, **_: Any) -> Reply:
        return 200, {}, {"issuer": self.issuer, "jwks_uri": f"{self.root}/jwks"}

    def _jwks(self, **_: Any) -> Reply:
        return 200, {}, {"keys": [key.jwk() for key in self.keys]}

    def _actions_token(self, *, query: dict[str, str], **_: Any) -> Reply:
        authorization = self.requests[-1].headers.get("authorization", "")
        claims = self.request_tokens.get(authorization.removeprefix("Bearer "))
        if not authorization.startswith("Bearer ") or claims is None:
            return 401, {}, {"message": "bad request token"}
        audience = query.get("audience", "")
        self.audience_requests.append(audience)
        return 200, {}, {"value": self.mint(claims, audience=audience)}
