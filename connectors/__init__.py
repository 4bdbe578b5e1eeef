"""Connectors: where facts come from (report files, GitHub, GitLab) and where feedback goes.

The boundary is `connectors.interface`; implementations are `connectors.github` (PyGithub),
`connectors.gitlab` (python-gitlab) and `connectors.files`; `connectors.ci_env` reads the CI
context and `connectors.providers` builds a connector from flags and that context.
"""

from connectors.interface import (
    CollectOptions,
    FactsCollector,
    Feedback,
    FeedbackPublisher,
    ProviderError,
    ProviderPermissionError,
    PublishResult,
    RateLimitError,
    RequestStats,
    RetryPolicy,
)

__all__ = [
    "CollectOptions",
    "FactsCollector",
    "Feedback",
    "FeedbackPublisher",
    "ProviderError",
    "ProviderPermissionError",
    "PublishResult",
    "RateLimitError",
    "RequestStats",
    "RetryPolicy",
]
