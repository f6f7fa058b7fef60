"""The gateway's request metrics stay bounded: whatever methods and paths clients invent, they
are counted under the labels of the routes the gateway has, or one label for the rest."""
import pytest

from gateway.app import create_app
from services.common.metrics import HTTP_REQUESTS
from tests.keys import PUBLIC_KEYS_FILE


@pytest.fixture
def client(monkeypatch):
    for name, value in {"JWT_PUBLIC_KEYS_FILE": str(PUBLIC_KEYS_FILE), "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/",
                        "RPC_TIMEOUT": "1"}.items():
        monkeypatch.setenv(name, value)
    return create_app().test_client()


def label_sets():
    return {tuple(sorted(sample.labels.items())) for metric in HTTP_REQUESTS.collect() for sample in metric.samples}


def invent(client, n):
    """An invented method on an unknown path and on a known one, and an unknown path."""
    client.open(f"/tidak-ada/{n}", method=f"BUATAN{n}")
    client.open("/health", method=f"LAIN{n}")
    client.get(f"/acak-{n}/x")


def test_invented_methods_and_paths_add_no_series(client):
    invent(client, 0)  # the labels they share exist from the first
    before = label_sets()
    for n in range(1, 200):
        invent(client, n)
    assert label_sets() == before
    methods = {dict(labels)["method"] for labels in before}
    assert not [method for method in methods if method.startswith(("BUATAN", "LAIN"))]
