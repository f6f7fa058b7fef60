"""Prometheus metrics (prometheus_client): what every service process and the gateway count, and
how they are served. docs/operations.md says what to alert on.

Every container serves its metrics on METRICS_PORT (unset: not served; the image sets 9100), apart
from the API: a service process its own (services.common.extensions.MetricsServer), the gateway
those of all its gunicorn workers summed (multiprocess mode, gateway/metrics.py).
Nothing here imports Nameko: the gateway imports this module and must not load eventlet.

Adapter (prometheus_client): imported by the gateway and the services' adapters."""
from prometheus_client import Counter, Gauge, Histogram

# Services: every RPC call, event and timer tick handled, by its outcome ("ok", the code of a
# domain error such as "tidak_ditemukan", or the type of an unexpected exception).
WORKER_SECONDS = Histogram("bkpm_worker_seconds", "Time to handle an RPC call, event or timer tick.",
                           ["service", "entrypoint", "outcome"])
EVENTS_RETRIED = Counter("bkpm_events_retried_total", "Events whose handler failed and were put back for a retry.",
                         ["queue"])
EVENTS_DEAD_LETTERED = Counter("bkpm_events_dead_lettered_total",
                               "Events moved to a dead-letter queue (unreadable, or failing every retry).", ["queue"])
OUTBOX_PENDING = Gauge("bkpm_outbox_pending", "Committed events not yet published.", ["service"])
EVENTS_PUBLISHED = Counter("bkpm_events_published_total", "Events published by the outbox relay.", ["service"])
NOTIFICATIONS = Counter("bkpm_notifikasi_total", "Deliveries settled by notifikasi.", ["kanal", "status"])
LOOKUP_CACHE = Counter("bkpm_lookup_cache_total", "A service's lookups in another service (organisasi) by how they "
                       "were answered: from memory (hit), by that service (miss), or by it while no events were "
                       "heard (bypass).", ["service", "outcome"])

# The gateway, per route (the rule, not the path, so ids do not make new series).
HTTP_REQUESTS = Counter("bkpm_http_requests_total", "HTTP requests answered by the gateway.",
                        ["method", "route", "status"])
HTTP_SECONDS = Histogram("bkpm_http_request_seconds", "Time the gateway took to answer.", ["method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
GATEWAY_CACHE = Counter("bkpm_gateway_cache_total", "Cacheable reads by how they were answered: from memory "
                        "(hit), by the service (miss), or by the service while no events were heard (bypass).",
                        ["service", "outcome"])

