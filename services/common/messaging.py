"""Nameko's RPC entrypoint, RPC proxy and queue consumer, made to ride out a broker restart.

Nameko's own, as they come:
- retry a lost broker after 2 s, 4 s, 6 s ... up to 30 s, so after a long outage a service
  can stay away for half a minute after the broker is back; ours retry every second or two;
- kill the whole service when the reply to an RPC call cannot be published, or a message not
  acknowledged, because the broker went away meanwhile; ours log and drop the reply (its
  caller has been told 503 at its deadline) and leave the message to the broker, which takes
  back what a lost connection had not acknowledged;
- publish each RPC reply with a publisher confirm, a round trip to the broker per call that
  tells the service nothing its caller's deadline does not (`ReplyPublisher`).

Services import `rpc` and `RpcProxy` from here, never from nameko.rpc, so that every
entrypoint of a service shares one of these consumers. What a worker gets of an `RpcProxy` is
the other service as a use case sees it: each call goes through `ask`, so it gives up with
Unavailable (503) instead of hanging, and the callee's refusals come back as domain errors.
`CachedRpcProxy` is an RpcProxy whose lookups are answered from memory while the service asked
has changed nothing.

Nameko adapter: imported by services' `service.py` only.
"""
import functools
import inspect
import logging
import time
from contextlib import contextmanager

import eventlet
import nameko.messaging
import nameko.rpc
from nameko.amqp.publish import Publisher
from nameko.exceptions import RemoteError, UnknownService, get_module_path, registry
from nameko.extensions import DependencyProvider, SharedExtension

from services.common.cache import ChangeListener, ReadCache
from services.common.config import settings
from services.common.errors import ERRORS_BY_NAME, Forbidden, Unauthorized, Unavailable
from services.common.failures import UPGRADE, as_named, failure_named, remote_error
from services.common.idempotency import FINGERPRINT_HEADER, KEY_HEADER, Claim
from services.common.metrics import LOOKUP_CACHE
from services.common.tokens import MAX_TTL_SECONDS, InvalidToken, internal_audience

log = logging.getLogger(__name__)

# The longest pause between two tries to reach a broker that is gone.
RECONNECT_MAX_SECONDS = 2


class QueueConsumer(nameko.messaging.QueueConsumer):
    @contextmanager
    def establish_connection(self):
        with self.create_connection() as connection:
            connection.ensure_connection(self.on_connection_error, self.connect_max_retries,
                                         interval_start=1, interval_step=1, interval_max=RECONNECT_MAX_SECONDS)
            yield connection

    def ack_message(self, message):
        try:
            super().ack_message(message)
        except OSError:  # the connection broke: the broker takes the message back itself
            pass

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except OSError:
            pass


class ReplyPublisher(Publisher):
    """Replies go to the caller's own exclusive queue. A publisher confirm there would tell
    only that the broker took the reply, not that the caller got it (the caller's deadline
    covers both), and costs a round trip to the broker on every call."""
    use_confirms = False


# Nameko's RpcConsumer builds its Responder by name: the publisher class is where to say it.
nameko.rpc.Responder.publisher_cls = ReplyPublisher


class RpcConsumer(nameko.rpc.RpcConsumer):
    queue_consumer = QueueConsumer()

    def handle_result(self, message, result, exc_info):
        if exc_info is not None:  # what the caller learns is the name: make it say what happened
            named = as_named(exc_info[1], self.container.service_name)
            exc_info = exc_info if named is exc_info[1] else (type(named), named, exc_info[2])
        try:
            return super().handle_result(message, result, exc_info)
        except Exception as exc:  # the broker, not the call, failed: the service goes on
            log.warning("could not send the reply of an RPC call (%r); its caller gets none", exc)
            return result, exc_info


class CallData(dict):
    """A call's context data, which Nameko passes on to every call its worker makes, and beside
    it what must not go on: the call's idempotency key (`idempotency`, a Claim or None), for this
    service's unit of work only. A service asked along the way (kegiatan asking bantuan while it
    schedules an activity) must not claim the caller's key in its own database too. (A dict's
    `copy`, which Nameko passes on, is a plain dict: the attribute stays here.)"""
    idempotency = None


class Rpc(nameko.rpc.Rpc):
    rpc_consumer = RpcConsumer()

    def unpack_message_headers(self, message):
        data = CallData(super().unpack_message_headers(message))
        key, fingerprint = data.pop(KEY_HEADER, None), data.pop(FINGERPRINT_HEADER, None)
        if isinstance(key, str) and isinstance(fingerprint, str):
            data.idempotency = Claim(key, fingerprint)
        return data


class ReplyListener(nameko.rpc.ReplyListener):
    queue_consumer = QueueConsumer()


# A callee's domain error reaches a Nameko caller as the same error, in the callee's words, not
# as a RemoteError (Nameko rebuilds the classes in its registry from their arguments).
for _error_class in ERRORS_BY_NAME.values():
    registry[get_module_path(_error_class)] = _error_class.from_payload


def ask(service, method, *args):
    """Call another service through a Nameko service proxy, giving up after
    SERVICE_CALL_TIMEOUT. What it raised comes back as the table of failures says
    (services.common.failures): its refusal as the same domain error; its outage, its
    database's, or a method it does not know yet (older than the caller, while an upgrade goes
    through) as Unavailable (503); never a hang. Anything else (a bug) raises RemoteError."""
    name = service.service_name
    try:
        with eventlet.Timeout(settings().service_call_timeout):
            return getattr(service, method)(*args)
    except (eventlet.Timeout, UnknownService):
        raise Unavailable(f"Layanan {name} tidak menjawab; coba lagi sebentar lagi.") from None
    except RemoteError as exc:
        if failure_named(exc.exc_type).kind == UPGRADE:
            log.warning("%s does not know %s yet: an older version still runs", name, method)
        known = remote_error(name, exc.exc_type, ())
        if known is None:
            raise
        raise known from None


class ServiceIdentity(SharedExtension):
    """This service's identity towards the others: a token signed with its own key, shown with
    every call it makes (renewed well before it expires), and the check of the tokens of the
    services calling its internal methods (`internal`)."""

    RENEW_AFTER_SECONDS = MAX_TTL_SECONDS // 2

    def setup(self):
        self.keys = settings().service_keys()
        self._key = None
        self._tokens = {}  # callee -> (token, when issued)

    def key(self):
        """Read when first needed: a service that calls no other needs no key of its own. (A
        method, not a property: Nameko looks at every attribute of an extension it binds.)"""
        if self._key is None:
            self._key = settings().service_signing_key(self.container.service_name)
        return self._key

    def token(self, callee):
        """This service's token for calls to `callee`, and to it only: a callee cannot replay
        it to a third service."""
        token, issued = self._tokens.get(callee, (None, float("-inf")))
        if time.monotonic() - issued > self.RENEW_AFTER_SECONDS:
            token = self.key().issue(self.container.service_name, [], aud=internal_audience(callee))
            self._tokens[callee] = token, time.monotonic()
        return token

    def require(self, token, callers, method):
        """The name of the calling service, if it is among `callers`; Unauthorized for a token
        that is no service's, Forbidden for a service not on the list."""
        try:
            name = self.keys.verify(token, self.container.service_name) if isinstance(token, str) else None
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from None
        if name is None:
            raise Unauthorized("Metode ini hanya untuk layanan platform; sertakan token layanan.")
        if name not in callers:
            raise Forbidden(f"Layanan {name} tidak berwenang memanggil {method}.")
        return name


class CallingService(DependencyProvider):
    """`self.calling_service(token, callers, method)`: ServiceIdentity.require."""

    identity = ServiceIdentity()

    def get_dependency(self, worker_ctx):
        return self.identity.require


def internal(*callers):
    """An RPC method for the services named in `callers` only: its caller shows its own token
    as the first argument (Remote does), which is checked before the method runs."""
    def decorate(method):
        def entrypoint(self, layanan, *args):
            self.calling_service(layanan, callers, method.__name__)
            return method(self, *args)
        # Not functools.wraps: Nameko checks a call's arguments against the signature it finds,
        # which must be this one, with the token.
        entrypoint.__name__, entrypoint.__qualname__ = method.__name__, method.__qualname__
        entrypoint.__doc__ = method.__doc__
        return rpc(entrypoint)
    return decorate


class Remote:
    """Another service as a use case sees it: `remote.method(*args)` is `ask(proxy, method,
    <this service's token>, *args)`."""

    def __init__(self, proxy, token):
        self._proxy, self._token = proxy, token
        self.service_name = proxy.service_name

    def __getattr__(self, method):
        return lambda *args: ask(self._proxy, method, self._token(self.service_name), *args)


class RpcProxy(nameko.rpc.RpcProxy):
    rpc_reply_listener = ReplyListener()
    identity = ServiceIdentity()

    def get_dependency(self, worker_ctx):
        return Remote(self.callee(worker_ctx), self.identity.token)

    def callee(self, worker_ctx):
        """What the worker's calls go through: Nameko's service proxy."""
        return super().get_dependency(worker_ctx)


class CachedRpcProxy(RpcProxy):
    """An RpcProxy whose calls of the methods named in `lookups` are answered from this
    process's memory while `target_service` has published no event since the answer was read
    (services/common/cache.py), at most SERVICE_CACHE_SECONDS. Only for reads whose answers
    change with nothing but that service's own events; the answers are shared: read-only."""

    def __init__(self, target_service, lookups, **options):
        super().__init__(target_service, **options)
        self.lookups = frozenset(lookups)

    def setup(self):
        config = settings()
        self.cache = ReadCache((self.target_service,), config.service_cache_seconds, LOOKUP_CACHE)
        self.listener = ChangeListener(config.amqp_uri, self.cache)

    def start(self):
        self.listener.start()

    def callee(self, worker_ctx):
        return CachedLookups(super().callee(worker_ctx), self.cache, self.lookups)


class CachedLookups:
    """What a worker of the service sees of a CachedRpcProxy: the Nameko service proxy, its
    lookups going through the cache."""

    def __init__(self, proxy, cache, lookups):
        self.service_name = proxy.service_name
        self._proxy, self._cache, self._lookups = proxy, cache, lookups

    def __getattr__(self, method):
        call = getattr(self._proxy, method)
        if method not in self._lookups:
            return call
        # The first argument is the calling service's token (Remote), which renews: not part
        # of what the answer depends on.
        return lambda token, *args: self._cache.read(self.service_name, method, list(args),
                                                     lambda: call(token, *args))


def rpc(method):
    """Nameko's RPC entrypoint for `method`. A call carrying an idempotency key runs through the
    unit of work's `once` (services/common/outbox.py): a repeat gets the first call's answer
    without running again."""
    @functools.wraps(method)
    def entrypoint(self, *args, **kwargs):
        return self.store.uow.once(lambda: method(self, *args, **kwargs))
    # Nameko checks a call's arguments against the signature it finds: `method`'s, not (*args).
    entrypoint.__signature__ = inspect.signature(method)
    return Rpc.decorator(entrypoint)
