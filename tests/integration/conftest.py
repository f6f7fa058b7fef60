import pytest

from services.common.mongo import connect
from services.organisasi.commands import import_wilayah
from tests.support import PROVINCES_CSV, Vhost, platform_env


@pytest.fixture
def isolated(mongo_uri, tmp_path):
    """A platform of its own for one test: its own vhost and databases, a few provinces in the
    area reference. Yields (env, organisasi database)."""
    vhost = Vhost()
    env = platform_env(vhost.amqp_uri, mongo_uri, tmp_path)
    client = connect(mongo_uri)
    db = client[f"{env['BKPM_DB_PREFIX']}_organisasi"]
    import_wilayah(db, PROVINCES_CSV)
    yield env, db
    client.close()
    vhost.delete()
