# Gatekeeper container image (completed with the CI-integration work).
FROM python:3.12-slim
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .
ENTRYPOINT ["gatekeeper"]
CMD ["serve", "--host", "0.0.0.0"]
