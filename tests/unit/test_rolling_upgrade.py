"""While an upgrade goes through, a caller may be newer than the service it calls and ask for a
method the old version lacks (Nameko's MethodNotFound): the gateway and the services answer 503,
try again shortly, as for a service that is down, never a 500."""
import pytest
from nameko.exceptions import RemoteError

from gateway.rpc import RpcClient
from services.common.errors import Unavailable
from services.common.messaging import ask

NOT_FOUND = {"exc_type": "MethodNotFound", "exc_path": "nameko.exceptions.MethodNotFound",
             "exc_args": ["get_unit_dan_wilayah"], "value": "get_unit_dan_wilayah"}


def test_the_gateway_answers_503_for_a_method_the_service_does_not_know_yet():
    with pytest.raises(Unavailable) as refused:
        RpcClient._result("organisasi", {"error": NOT_FOUND, "result": None})
    assert refused.value.payload["detail"] == "Layanan organisasi sedang diperbarui; coba lagi sebentar lagi."


class OldOrganisasi:
    service_name = "organisasi"

    def get_unit_dan_wilayah(self, *args):
        raise RemoteError("MethodNotFound", "get_unit_dan_wilayah")

    def get_unit_ringkas(self, unit_id):
        raise RemoteError("KeyError", "'tingkat'")  # a bug is still a bug


def test_a_service_asking_an_older_one_is_unavailable_not_failed():
    with pytest.raises(Unavailable) as refused:
        ask(OldOrganisasi(), "get_unit_dan_wilayah", "u-1", "35.78")
    assert refused.value.payload["detail"] == "Layanan organisasi sedang diperbarui; coba lagi sebentar lagi."
    with pytest.raises(RemoteError):
        ask(OldOrganisasi(), "get_unit_ringkas", "u-1")
