"""The CI job's own OIDC ID token, for the evidence service (no stored secret needed).

A provider's `id_token_request` names the variables of a CI that hands out tokens on request
(GitHub Actions with `permissions: id-token: write`: `ACTIONS_ID_TOKEN_REQUEST_URL` and
`ACTIONS_ID_TOKEN_REQUEST_TOKEN`); the token is requested from that URL with `&audience=`, just
before it is sent (it lives minutes). GitLab CI hands the job a token through an `id_tokens:`
variable: `GATEKEEPER_ID_TOKEN` (any CI may set it, and then it is used as is).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from connectors.interface import IdTokenRequest
from connectors.providers import PROVIDERS
from gatekeeper import logs
from gatekeeper.config import check_secure_url
from gatekeeper.errors import EvidenceNotStoredError, UsageError

ID_TOKEN_VARIABLE = "GATEKEEPER_ID_TOKEN"  # noqa: S105 - a variable's name
_MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class IdTokenSource:
    """Where this job's ID token comes from: given (GitLab `id_tokens:`) or to request (GitHub)."""

    given: SecretStr | None = None
    request: IdTokenRequest | None = None
    request_url: str | None = None
    request_token: SecretStr | None = None
    audience: str = "gatekeeper"

    def token(self, timeout: float = 30.0) -> str:
        """The ID token; EvidenceNotStoredError (exit 3) when GitHub does not hand one out."""
        if self.given is not None:
            return self.given.get_secret_value()
        if self.request is None or self.request_url is None or self.request_token is None:
            raise EvidenceNotStoredError("this job offers no ID token")
        separator = "&" if "?" in self.request_url else "?"
        url = f"{self.request_url}{separator}audience={quote(self.audience, safe='')}"
        headers = {"Authorization": f"Bearer {self.request_token.get_secret_value()}"}
        try:
            with (
                httpx.Client(timeout=timeout, follow_redirects=False) as client,
                client.stream("GET", url, headers=headers) as response,
            ):
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > _MAX_ANSWER_BYTES:
                        raise ValueError(f"more than {_MAX_ANSWER_BYTES} bytes")
                if response.status_code != 200:
                    raise ValueError(f"HTTP {response.status_code}")
                value = httpx.Response(200, content=bytes(body)).json().get("value")
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            raise EvidenceNotStoredError(
                f"{self.request.ci_title} did not give an ID token "
                f"({self.request.url_variable}: {error})"
            ) from None
        if not isinstance(value, str) or not value:
            raise EvidenceNotStoredError(
                f"{self.request.ci_title} did not give an ID token "
                f"({self.request.url_variable}: no value)"
            )
        logs.SECRETS.add(value)
        return value


def id_token_source(env: Mapping[str, str], audience: str) -> IdTokenSource | None:
    """The job's ID-token source from `env`, or None when the CI offers none."""
    given = env.get(ID_TOKEN_VARIABLE, "").strip()
    if given:
        logs.SECRETS.add(given)
        return IdTokenSource(given=SecretStr(given), audience=audience)
    for entry in PROVIDERS.values():
        request = entry.id_token_request
        if request is None:
            continue
        url = env.get(request.url_variable, "").strip()
        request_token = env.get(request.token_variable, "").strip()
        if url and request_token:
            logs.SECRETS.add(request_token)
            try:
                check_secure_url(url, request.url_variable)
            except ValueError as error:
                raise UsageError(str(error)) from None
            return IdTokenSource(
                request=request,
                request_url=url,
                request_token=SecretStr(request_token),
                audience=audience,
            )
    return None
