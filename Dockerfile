# syntax=docker/dockerfile:1
# Gatekeeper: the evidence service by default (`gatekeeper serve`), the CLI as the entry point.

ARG PYTHON_VERSION=3.12

# --- build: a wheel and every dependency, installed into a venv -------------------------------
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The policies, migrations and examples ship inside the package (gatekeeper/data).
# Dependencies come from the hashed lock of the service set, the package itself without them.
COPY requirements/service.txt ./
RUN python -m venv /opt/gatekeeper \
    && /opt/gatekeeper/bin/pip install --no-compile --require-hashes -r service.txt
COPY pyproject.toml README.md ./
COPY gatekeeper ./gatekeeper
COPY connectors ./connectors
RUN /opt/gatekeeper/bin/pip wheel --no-deps --wheel-dir /tmp/wheels . \
    && /opt/gatekeeper/bin/pip install --no-deps --no-compile /tmp/wheels/*.whl \
    && /opt/gatekeeper/bin/gatekeeper --version \
    && /opt/gatekeeper/bin/gatekeeper serve --help > /dev/null

# --- final: the venv only, no compilers, a non-root user --------------------------------------
FROM python:${PYTHON_VERSION}-slim AS final
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="Gatekeeper" \
      org.opencontainers.image.description="Release quality gate and signed evidence store for ISO 9001 audits" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://example.invalid/gatekeeper"
# WeasyPrint (the PDF audit report) lays text out with Pango and HarfBuzz and needs one font;
# the libraries are left unpinned on purpose: a rebuild takes Debian's security fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 gatekeeper \
    && useradd --system --uid 10001 --gid gatekeeper --home-dir /var/lib/gatekeeper --create-home gatekeeper
COPY --from=build /opt/gatekeeper /opt/gatekeeper
ENV PATH=/opt/gatekeeper/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GATEKEEPER_DATA_DIR=/var/lib/gatekeeper \
    GATEKEEPER_HOST=0.0.0.0 \
    GATEKEEPER_PORT=8000
USER 10001:10001
WORKDIR /var/lib/gatekeeper
VOLUME ["/var/lib/gatekeeper"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; url = 'http://127.0.0.1:' + os.environ.get('GATEKEEPER_PORT', '8000') + '/healthz'; sys.exit(0 if urllib.request.urlopen(url, timeout=4).status == 200 else 1)"]
ENTRYPOINT ["gatekeeper"]
CMD ["serve"]
