"""The published table of the config keys each observability destination type requires, as the
emulator's tests and the conformance suite both make destinations of every type from it (an
independent copy: test_observability_api.py checks the emulator's own table against it)."""

from __future__ import annotations

REQUIRED = {
    "arize": ("apiKey", "spaceKey", "modelId"), "braintrust": ("apiKey", "projectId"),
    "clickhouse": ("host", "database", "username", "password"),
    "datadog": ("apiKey", "mlApp"), "grafana": ("apiKey", "instanceId"),
    "langfuse": ("publicKey", "secretKey"), "langsmith": ("apiKey",),
    "newrelic": ("licenseKey",), "opik": ("apiKey", "workspace", "projectName"),
    "otel-collector": ("endpoint",), "posthog": ("apiKey",), "ramp": ("apiKey",),
    "s3": ("bucketName", "accessKeyId", "secretAccessKey"), "sentry": ("dsn", "otlpEndpoint"),
    "snowflake": ("account", "token"), "weave": ("apiKey", "entity", "project"),
    "webhook": ("url",),
}
URL_KEYS = frozenset({"endpoint", "otlpEndpoint", "url"})
"""The required keys whose value must be an http(s) URL."""
