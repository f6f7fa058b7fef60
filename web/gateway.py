"""The web front-end's only way to the platform: the gateway's public HTTP API, as any other
front-end calls it. Each worker thread keeps its own connections (a requests.Session is not
safe to share between threads). The visitor's address goes along in X-Forwarded-For, so that
the gateway, which lists this server among its TRUSTED_PROXIES, counts its rate limits per
person rather than for this server.

A problem+json answer becomes a `Problem`, a 429 `TooManyRequests` (with the seconds to wait),
which the views turn into pages; no answer, or a 5xx, becomes `Unavailable`, the "sedang
gangguan" page."""
import logging
import threading

import requests
from flask import g, has_request_context, request

log = logging.getLogger(__name__)

# Seconds to connect, and to wait for an answer: the gateway itself answers 503 after RPC_TIMEOUT.
TIMEOUT = (3, 15)
# An upload's: the gateway gives one a minute (a photo, a CSV from a phone on a weak connection).
UPLOAD_TIMEOUT = (3, 90)


class GatewayError(Exception):
    pass


class Unavailable(GatewayError):
    """The gateway did not answer, or answered with a failure of its own (5xx)."""


class Problem(GatewayError):
    """An RFC 9457 answer of the gateway: `status`, its stable `code`, the `detail` in Bahasa
    Indonesia and, for invalid input, `errors` by field."""

    def __init__(self, status, body):
        super().__init__(f"{status} {body.get('code')}")
        self.status = status
        self.code = body.get("code")
        self.detail = body.get("detail") or ""
        self.errors = body.get("errors") or {}


class TooManyRequests(GatewayError):
    """429: the gateway's rate limit for the visitor's address; `retry_after` seconds to wait."""

    def __init__(self, retry_after):
        super().__init__(f"429, again in {retry_after} s")
        self.retry_after = retry_after


def _retry_after(response):
    try:
        return max(0, int(response.headers.get("Retry-After", "")))
    except ValueError:
        return 60


class Gateway:
    def __init__(self, base_url):
        self.base_url = base_url.rstrip("/")
        self._local = threading.local()

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False  # a proxy of the environment is not the way to our own gateway
        return session

    def _headers(self, extra):
        headers = {"Accept": "application/json"}
        if has_request_context():
            headers["X-Forwarded-For"] = request.remote_addr or ""
            if "correlation_id" in g:
                headers["X-Correlation-ID"] = g.correlation_id
        return {**headers, **(extra or {})}

    def send(self, method, path, params=None, json=None, headers=None, stream=False, timeout=TIMEOUT, **body):
        """The gateway's 2xx answer (a requests.Response: its headers, an export's bytes) to
        `method path`; Problem, TooManyRequests or Unavailable otherwise. `body` is requests'
        `data`/`files` for a form or an upload."""
        try:
            response = self._session().request(method, f"{self.base_url}{path}", params=params, json=json,
                                               headers=self._headers(headers), timeout=timeout, stream=stream,
                                               **body)
        except requests.RequestException as error:
            # Never the path: it may hold a ticket number or a survey code.
            log.warning("the gateway did not answer a %s: %s", method, type(error).__name__)
            raise Unavailable(str(error)) from None
        if response.status_code >= 500:
            log.warning("the gateway answered %s to a %s", response.status_code, method)
            raise Unavailable(f"gateway answered {response.status_code}")
        if response.status_code >= 400:
            if response.status_code == 429:
                raise TooManyRequests(_retry_after(response))
            try:
                problem = response.json()
            except ValueError:
                problem = {}
            raise Problem(response.status_code, problem)
        return response

    def request(self, method, path, params=None, json=None, headers=None):
        """The JSON of a 2xx answer to `method path` (None for a 204)."""
        response = self.send(method, path, params=params, json=json, headers=headers)
        return None if response.status_code == 204 else response.json()

    def get(self, path, **params):
        return self.request("GET", path, params=params or None)

    def post(self, path, json, headers=None):
        return self.request("POST", path, json=json, headers=headers)
