"""The read cache (services/common/cache.py `ReadCache`) on its own, without broker or
database: what it answers from memory, what makes it call the service again, and when it
keeps nothing at all. The service is a counting function standing in for the RPC call. Then
the services' lookups through it (`CachedLookups`), and last the gateway's routes in-process
(Flask test client, a fake RPC client): reads answered per caller, and a write through the
worker forgetting its service's reads at once."""
import threading
import time

import pytest
from prometheus_client import REGISTRY

import services.common.cache as cache_module
from services.common.cache import ReadCache, call_key
from services.common.messaging import CachedLookups
from services.common.metrics import GATEWAY_CACHE, LOOKUP_CACHE
from tests.keys import PUBLIC_KEYS_FILE, token

ACTOR = {"sub": "penguji", "roles": ["admin"], "wilayah": None}
OTHER_ACTOR = {"sub": "lain", "roles": ["pemantau"], "wilayah": "31"}


class Service:
    """A stand-in for an RPC call: counts its calls and answers something new each time, so a
    repeated answer can only have come from memory."""

    def __init__(self, during=None):
        self.calls = 0
        self.during = during  # run inside the call, as if it happened while the call was in flight

    def __call__(self):
        self.calls += 1
        if self.during is not None:
            self.during()
        return {"answer": self.calls}


class Clock:
    """`time` as the cache sees it, moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


def heard(*services, seconds=30, counter=GATEWAY_CACHE, **kwargs):
    """A cache whose events are heard (as once its listener has connected)."""
    cache = ReadCache(services or ("organisasi",), seconds, counter, **kwargs)
    cache.hearing(True)
    return cache


def read(cache, service, args=(ACTOR, "u-1"), method="get_struktur", service_name="organisasi"):
    return cache.read(service_name, method, list(args), service)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(cache_module, "time", fake)
    return fake


def test_a_repeated_read_is_answered_from_memory():
    cache, service = heard(), Service()
    first = read(cache, service)
    assert read(cache, service) == first == {"answer": 1}
    assert read(cache, service) is first  # the very answer kept, not a new call's
    assert service.calls == 1


def test_method_arguments_and_caller_each_make_their_own_key():
    cache, service = heard(), Service()
    answers = [
        read(cache, service),
        read(cache, service, method="get_unit"),
        read(cache, service, args=(ACTOR, "u-2")),
        read(cache, service, args=(OTHER_ACTOR, "u-1")),  # another caller never gets this caller's answer
        read(cache, service, args=(ACTOR, "u-1", {"page": 2})),
    ]
    assert service.calls == 5
    assert [a["answer"] for a in answers] == [1, 2, 3, 4, 5]
    # And each is kept under its own key: asking them all again calls nothing.
    again = [read(cache, service), read(cache, service, method="get_unit"), read(cache, service, args=(ACTOR, "u-2")),
             read(cache, service, args=(OTHER_ACTOR, "u-1")), read(cache, service, args=(ACTOR, "u-1", {"page": 2}))]
    assert again == answers and service.calls == 5


def test_the_key_does_not_depend_on_the_order_of_a_dicts_fields():
    cache, service = heard(), Service()
    read(cache, service, args=(ACTOR, "u-1", {"page": 1, "per_page": 20}))
    read(cache, service, args=(dict(reversed(list(ACTOR.items()))), "u-1", {"per_page": 20, "page": 1}))
    assert service.calls == 1
    assert call_key("organisasi", "m", [{"a": 1, "b": 2}]) == call_key("organisasi", "m", [{"b": 2, "a": 1}])
    assert call_key("organisasi", "m", ["1"]) != call_key("organisasi", "m", [1])


def test_forget_makes_the_next_read_call_again():
    cache, service = heard(), Service()
    read(cache, service)
    read(cache, service, method="get_unit")
    cache.forget("organisasi")
    assert read(cache, service) == {"answer": 3}
    assert read(cache, service, method="get_unit") == {"answer": 4}  # every answer of the service went
    assert service.calls == 4
    assert read(cache, service) == {"answer": 3} and service.calls == 4  # and the new answer is kept


def test_forget_of_one_service_keeps_the_others_answers():
    cache = heard("organisasi", "kegiatan")
    organisasi, kegiatan = Service(), Service()
    read(cache, organisasi)
    read(cache, kegiatan, service_name="kegiatan")
    cache.forget("kegiatan")
    read(cache, organisasi)
    read(cache, kegiatan, service_name="kegiatan")
    assert organisasi.calls == 1
    assert kegiatan.calls == 2


def test_forgetting_an_unknown_service_or_none_changes_nothing():
    cache, service = heard(), Service()
    read(cache, service)
    cache.forget("kegiatan")
    cache.forget(None)  # what the listener passes for an exchange it does not know
    read(cache, service)
    assert service.calls == 1


def test_an_answer_read_while_a_change_happened_is_not_kept():
    cache = heard()
    service = Service(during=lambda: cache.forget("organisasi"))
    assert read(cache, service) == {"answer": 1}  # the caller still gets what was read
    service.during = None
    assert read(cache, service) == {"answer": 2}  # but it was not kept: it may predate the change
    assert read(cache, service) == {"answer": 2}
    assert service.calls == 2


def test_an_answer_read_while_another_thread_forgets_is_not_kept():
    cache = heard()
    inside, release = threading.Event(), threading.Event()

    def slow():
        inside.set()
        assert release.wait(5)
        return {"answer": "before the change"}

    results = []
    reader = threading.Thread(target=lambda: results.append(cache.read("organisasi", "get_struktur", ["u-1"], slow)))
    reader.start()
    assert inside.wait(5)
    cache.forget("organisasi")  # the change's event, heard by the listener thread meanwhile
    release.set()
    reader.join(5)
    assert results == [{"answer": "before the change"}]
    fresh = Service()
    assert cache.read("organisasi", "get_struktur", ["u-1"], fresh) == {"answer": 1}
    assert fresh.calls == 1


def test_nothing_is_kept_or_served_before_the_events_are_heard():
    cache, service = ReadCache(("organisasi",), 30, GATEWAY_CACHE), Service()
    assert [read(cache, service)["answer"] for _ in range(3)] == [1, 2, 3]
    cache.hearing(True)
    assert read(cache, service) == {"answer": 4}  # nothing kept from before
    assert read(cache, service) == {"answer": 4}
    assert service.calls == 4


def test_nothing_is_kept_or_served_once_the_events_are_no_longer_heard():
    cache, service = heard(), Service()
    read(cache, service)
    cache.hearing(False)  # the listener lost the broker
    assert [read(cache, service)["answer"] for _ in range(3)] == [2, 3, 4]
    cache.hearing(True)  # heard again: starts empty, as changes may have gone unheard meanwhile
    assert read(cache, service) == {"answer": 5}
    assert read(cache, service) == {"answer": 5}
    assert service.calls == 5


def test_hearing_again_forgets_what_was_held():
    cache, service = heard(), Service()
    read(cache, service)
    cache.hearing(True)  # a reconnection: the events of the gap went unheard
    assert read(cache, service) == {"answer": 2}
    assert service.calls == 2


def test_an_answer_read_while_the_listener_lost_the_broker_is_not_kept():
    cache = heard()
    service = Service(during=lambda: cache.hearing(False))
    read(cache, service)
    service.during = None
    cache.hearing(True)
    read(cache, service)
    assert service.calls == 2

    # Lost and found again while the call was in flight: still not kept (an event may have
    # been missed in between).
    cache = heard()
    service = Service(during=lambda: (cache.hearing(False), cache.hearing(True)))
    read(cache, service)
    service.during = None
    assert read(cache, service) == {"answer": 2}
    assert service.calls == 2


def test_answers_expire_after_the_configured_seconds(clock):
    cache, service = heard(seconds=10), Service()
    read(cache, service)
    clock.now += 9.9
    assert read(cache, service) == {"answer": 1}
    clock.now += 0.1  # ten seconds after it was read
    assert read(cache, service) == {"answer": 2}
    assert service.calls == 2
    clock.now += 5
    assert read(cache, service) == {"answer": 2}  # the new answer is kept for its own ten seconds


def test_answers_expire_in_real_time():
    cache, service = heard(seconds=0.2), Service()
    read(cache, service)
    assert read(cache, service) == {"answer": 1}
    time.sleep(0.3)
    assert read(cache, service) == {"answer": 2}
    assert service.calls == 2


def test_a_hit_does_not_extend_an_answers_life(clock):
    cache, service = heard(seconds=10), Service()
    read(cache, service)
    for _ in range(5):
        clock.now += 1.9
        read(cache, service)
    assert service.calls == 1
    clock.now += 0.6  # 10.1 s after the read, though last asked 0.6 s ago
    assert read(cache, service) == {"answer": 2}


@pytest.mark.parametrize("seconds", [0, -1])
def test_zero_seconds_never_caches(seconds):
    cache, service = heard(seconds=seconds), Service()
    assert [read(cache, service)["answer"] for _ in range(3)] == [1, 2, 3]
    assert service.calls == 3


def test_services_not_listed_are_never_cached():
    cache, service = heard("organisasi"), Service()
    answers = [read(cache, service, service_name="kegiatan")["answer"] for _ in range(3)]
    assert answers == [1, 2, 3]
    assert cache.services == ("organisasi",)


def test_the_least_recently_used_answer_is_evicted_beyond_max_entries():
    cache = heard(max_entries=2)
    services = {unit: Service() for unit in ("a", "b", "c")}

    def get(unit):
        return read(cache, services[unit], args=(ACTOR, unit))

    get("a")
    get("b")
    get("a")  # a is now the more recently used
    get("c")  # one too many: b goes, not a
    assert [services[u].calls for u in "abc"] == [1, 1, 1]
    get("a")
    get("c")
    assert [services[u].calls for u in "abc"] == [1, 1, 1]  # both still held
    get("b")  # called again, and held in place of a (used before c)
    assert [services[u].calls for u in "abc"] == [1, 2, 1]
    get("c")  # still held
    get("a")  # gone, called again
    assert [services[u].calls for u in "abc"] == [2, 2, 1]
    assert len(cache._entries["organisasi"]) == 2


def test_forgetting_lets_go_of_the_service_s_answers_not_only_their_use():
    cache, service = heard("organisasi", "kegiatan"), Service()
    for unit in ("a", "b", "c"):
        read(cache, service, args=(ACTOR, unit))
    read(cache, service, service_name="kegiatan")
    cache.forget("organisasi")
    assert len(cache._entries["organisasi"]) == 0  # memory freed at once, not when evicted
    assert len(cache._entries["kegiatan"]) == 1


def test_a_failed_call_is_not_cached():
    cache = heard()
    calls = []

    def failing():
        calls.append(1)
        raise RuntimeError("tidak menjawab")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            cache.read("organisasi", "get_struktur", ["u-1"], failing)
    assert len(calls) == 2
    service = Service()
    assert cache.read("organisasi", "get_struktur", ["u-1"], service) == {"answer": 1}  # the next read calls again
    assert service.calls == 1


def outcome(service, name):
    return REGISTRY.get_sample_value("bkpm_gateway_cache_total", {"service": service, "outcome": name}) or 0


def test_each_read_is_counted_by_how_it_was_answered():
    name = "uji-metrics"  # a service of this test's own, so other tests' counts do not mix in
    cache, service = ReadCache((name,), 30, GATEWAY_CACHE), Service()
    cache.read(name, "m", [], service)  # not heard yet
    cache.hearing(True)
    cache.read(name, "m", [], service)
    cache.read(name, "m", [], service)
    cache.read(name, "m", [], service)
    assert (outcome(name, "bypass"), outcome(name, "miss"), outcome(name, "hit")) == (1, 1, 2)


# A service's lookups in another service (services/common/messaging.py `CachedLookups`)

class ServiceProxy:
    """Nameko's proxy to another service, as a worker sees it: every method counts its calls."""

    service_name = "uji-lookups"  # a service of these tests' own, so other tests' counts do not mix in

    def __init__(self):
        self.calls = []

    def __getattr__(self, method):
        def call(*args):
            self.calls.append((method, args))
            return {"method": method, "args": list(args), "call": len(self.calls)}
        return call


def lookups(proxy, names=("list_kontak_unit",)):
    return CachedLookups(proxy, heard(proxy.service_name, counter=LOOKUP_CACHE), frozenset(names))


def test_a_lookup_is_answered_from_memory_by_its_arguments_whatever_token_the_caller_shows():
    proxy = ServiceProxy()
    organisasi = lookups(proxy)
    first = organisasi.list_kontak_unit("token-1", "u-1")
    assert organisasi.list_kontak_unit("token-2", "u-1") == first  # the calling service's token renewed
    assert organisasi.list_kontak_unit("token-2", "u-2")["args"] == ["token-2", "u-2"]
    assert proxy.calls == [("list_kontak_unit", ("token-1", "u-1")), ("list_kontak_unit", ("token-2", "u-2"))]
    assert organisasi.service_name == "uji-lookups"  # as `ask` names the service in its messages


def test_a_method_not_named_a_lookup_always_asks_the_service():
    proxy = ServiceProxy()
    organisasi = lookups(proxy)
    organisasi.bentuk_unit("actor", {"tingkat": "nasional"})
    organisasi.bentuk_unit("actor", {"tingkat": "nasional"})
    assert len(proxy.calls) == 2


def test_lookups_are_counted_under_the_service_asked():
    def counted(name):
        return REGISTRY.get_sample_value("bkpm_lookup_cache_total",
                                         {"service": "uji-lookups", "outcome": name}) or 0
    before = counted("hit"), counted("miss")
    organisasi = lookups(ServiceProxy())
    organisasi.list_kontak_unit("token", "u-9")
    organisasi.list_kontak_unit("token", "u-9")
    assert (counted("hit") - before[0], counted("miss") - before[1]) == (1, 1)


# The gateway's routes that use it (in-process, the RPC client replaced by a fake)

STRUKTUR = "/api/v1/units/u-1/struktur"


class FakeRpc:
    """The gateway's RPC client: records the calls and answers each with a new count."""

    def __init__(self):
        self.calls = []

    def call(self, service, method, *args, correlation_id=None, timeout=None, idempotency=None):
        self.calls.append((service, method))
        return {"id": f"p-{len(self.calls)}", "unit": {"id": args[1]}, "pengurus": [], "anggota": [],
                "panggilan": len(self.calls)}

    def count(self, method):
        return sum(1 for _, m in self.calls if m == method)


@pytest.fixture
def gateway_app(monkeypatch):
    monkeypatch.setenv("JWT_PUBLIC_KEYS_FILE", str(PUBLIC_KEYS_FILE))
    monkeypatch.setenv("AMQP_URI", "amqp://guest:guest@127.0.0.1:1/")
    monkeypatch.setenv("GATEWAY_CACHE_SECONDS", "30")
    from gateway.app import create_app

    app = create_app()
    app.extensions["rpc"] = FakeRpc()
    app.extensions["read_cache"].hearing(True)  # as once the worker's listener has connected
    return app


def bearer(sub="penguji", role="admin"):
    return {"Authorization": f"Bearer {token(sub, role)}"}


def test_a_route_read_is_answered_from_memory_per_caller(gateway_app):
    client, rpc = gateway_app.test_client(), gateway_app.extensions["rpc"]
    first = client.get(STRUKTUR, headers=bearer())
    assert first.status_code == 200
    assert client.get(STRUKTUR, headers=bearer()).get_json() == first.get_json()
    assert rpc.count("get_struktur") == 1
    other = client.get(STRUKTUR, headers=bearer(sub="lain", role="pemantau"))
    assert other.get_json()["panggilan"] == 2  # another caller: asked for itself
    assert rpc.count("get_struktur") == 2


def test_a_write_through_the_worker_forgets_its_services_reads_at_once(gateway_app):
    client, rpc = gateway_app.test_client(), gateway_app.extensions["rpc"]
    client.get(STRUKTUR, headers=bearer())
    client.get(STRUKTUR, headers=bearer())
    assert rpc.count("get_struktur") == 1
    posted = client.post("/api/v1/units/u-1/pengurus", headers=bearer(),
                         json={"jabatan": "wakil_ketua", "nama": "H. Abdul Gani", "mulai": "2026-01-05"})
    assert posted.status_code == 201, posted.get_data(as_text=True)
    assert client.get(STRUKTUR, headers=bearer()).get_json()["panggilan"] == 3  # no event needed
    assert rpc.count("get_struktur") == 2


def test_a_failed_write_forgets_too(gateway_app):
    """A write that failed on the way back (a timeout, say) may still have been committed."""
    client, rpc = gateway_app.test_client(), gateway_app.extensions["rpc"]
    client.get(STRUKTUR, headers=bearer())

    def failing(service, method, *args, **kwargs):
        raise RuntimeError("jawaban hilang")

    rpc.call, answering = failing, rpc.call
    failed = client.post("/api/v1/units/u-1/pengurus", headers=bearer(),
                json={"jabatan": "wakil_ketua", "nama": "H. Abdul Gani", "mulai": "2026-01-05"})
    rpc.call = answering
    assert failed.status_code == 500
    client.get(STRUKTUR, headers=bearer())
    assert rpc.count("get_struktur") == 2


def test_a_head_request_is_a_read_and_forgets_nothing(gateway_app):
    client, rpc = gateway_app.test_client(), gateway_app.extensions["rpc"]
    client.get("/api/v1/units/u-2", headers=bearer())
    assert client.head(STRUKTUR, headers=bearer()).status_code == 200
    client.get("/api/v1/units/u-2", headers=bearer())
    assert rpc.count("get_unit") == 1
