"""One table says what each failure is (services/common/failures.py); the gateway's RPC client,
a service asking another (`ask`) and the event handlers (`is_outage`) all read it, so for every
error the platform raises they agree: a refusal is passed on as it is, an outage or an upgrade
is 503 and waited out, anything else is a bug."""
import pytest
import pymongo.errors
from nameko.exceptions import RemoteError, serialize

from gateway.rpc import RemoteFailure, RpcClient
from services.common import errors
from services.common.consumer import is_outage
from services.common.failures import (BUG, FAILURES, OUTAGE, REFUSED, UPGRADE, as_named, failure_named,
                                      failure_of)
from services.common.messaging import ask

REFUSALS = [errors.InvalidInput({"nama": ["Wajib diisi."]}), errors.Conflict("Sudah ada.", code="unit_sudah_ada"),
            errors.NotFound("Unit u-1 tidak ditemukan."), errors.Forbidden("Bukan wilayah Anda.")]
OUTAGES = [errors.Unavailable("Basis data tidak menjawab tepat waktu; tidak ada perubahan yang disimpan."),
           pymongo.errors.AutoReconnect("gone"), pymongo.errors.ConnectionFailure("gone"),
           pymongo.errors.NetworkTimeout("slow"), pymongo.errors.NotPrimaryError("stepped down"),
           pymongo.errors.ServerSelectionTimeoutError("no server"), pymongo.errors.WaitQueueTimeoutError("pool"),
           pymongo.errors.ExecutionTimeout("maxTimeMS", 50), pymongo.errors.WTimeoutError("w", 64),
           pymongo.errors.OperationFailure("operation exceeded time limit", 50)]
BUGS = [KeyError("tingkat"), TypeError("None"), pymongo.errors.DuplicateKeyError("E11000", 11000),
        pymongo.errors.OperationFailure("bad query", 2), ValueError("x")]


class MethodNotFound(Exception):
    """Nameko's, by name: what a service raises for a method it does not have."""


def expected_kind(exc):
    if exc in REFUSALS:
        return REFUSED
    if exc in OUTAGES:
        return OUTAGE
    return UPGRADE if isinstance(exc, MethodNotFound) else BUG


EVERY = REFUSALS + OUTAGES + BUGS + [MethodNotFound("get_unit_dan_wilayah")]


def test_the_table_names_every_error_it_knows_once_and_the_rest_are_bugs():
    assert {failure_named(type(exc).__name__).kind for exc in REFUSALS} == {REFUSED}
    assert failure_named("MethodNotFound").kind == UPGRADE
    assert failure_named("SomethingNew").kind == BUG
    assert all(name.isidentifier() for name in FAILURES)


@pytest.mark.parametrize("exc", EVERY, ids=lambda exc: type(exc).__name__)
def test_an_event_handler_waits_out_outages_only(exc):
    assert failure_of(exc).kind == expected_kind(exc)
    assert is_outage(exc) is (expected_kind(exc) == OUTAGE)


@pytest.mark.parametrize("exc", EVERY, ids=lambda exc: type(exc).__name__)
def test_the_gateway_passes_refusals_on_answers_503_for_outages_and_500_for_bugs(exc):
    # What a service's RPC entrypoint replies (services.common.messaging.RpcConsumer).
    reply = {"error": serialize(as_named(exc, "organisasi")), "result": None}
    kind = expected_kind(exc)
    with pytest.raises(Exception) as raised:
        RpcClient._result("organisasi", reply)
    if kind == REFUSED or isinstance(exc, errors.Unavailable):
        assert type(raised.value) is type(exc) and raised.value.payload == exc.payload
    elif kind in (OUTAGE, UPGRADE):
        assert isinstance(raised.value, errors.Unavailable) and raised.value.status == 503
        assert raised.value.payload["detail"].startswith(("Layanan organisasi", "Basis data layanan organisasi"))
    else:
        assert isinstance(raised.value, RemoteFailure)


class Callee:
    """A service proxy as a Nameko worker holds it: the callee raised `exc`, and Nameko gave the
    caller either the domain error itself (rebuilt from its registry) or a RemoteError by name."""
    service_name = "organisasi"

    def __init__(self, exc):
        self.exc = exc

    def get_unit_ringkas(self, *args):
        if isinstance(self.exc, errors.DomainError):
            raise self.exc
        named = as_named(self.exc, self.service_name)
        if isinstance(named, errors.DomainError):
            raise named
        raise RemoteError(type(named).__name__, str(named))


@pytest.mark.parametrize("exc", EVERY, ids=lambda exc: type(exc).__name__)
def test_a_service_asking_another_agrees_with_the_gateway(exc):
    kind = expected_kind(exc)
    with pytest.raises(Exception) as raised:
        ask(Callee(exc), "get_unit_ringkas", "u-1")
    if kind == REFUSED or isinstance(exc, errors.Unavailable):
        assert raised.value is exc
    elif kind in (OUTAGE, UPGRADE):
        assert isinstance(raised.value, errors.Unavailable)
        assert is_outage(raised.value)  # an event handler that asked waits it out
    else:
        assert isinstance(raised.value, RemoteError) and not is_outage(raised.value)


def test_nameko_rebuilds_a_callees_domain_error_as_the_same_error():
    from nameko.exceptions import deserialize
    conflict = errors.Conflict("Jabatan ketua masih dipegang.", code="jabatan_terisi", pengurus_id="p-1")
    rebuilt = deserialize(serialize(conflict))
    assert type(rebuilt) is errors.Conflict and rebuilt.payload == conflict.payload


def test_a_refusals_numbers_and_nulls_cross_rpc_as_they_were():
    """Nameko sends an error's arguments as text (3 becomes '3', None 'None'); the payload
    travels as JSON text, so the caller's problem says `tersalur: 3`, not `"3"`."""
    refused = errors.Conflict("Kuota tidak boleh di bawah yang sudah tersalur.", code="kuota_di_bawah_tersalur",
                              tersalur=3, batas=None, ada=True)
    sent = serialize(refused)
    received = errors.Conflict.from_payload(*sent["exc_args"])
    assert received.payload == {"code": "kuota_di_bawah_tersalur", "detail": refused.payload["detail"],
                                "tersalur": 3, "batas": None, "ada": True}
