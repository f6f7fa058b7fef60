"""MongoDB for Nameko services: one client per process, indexes declared in code."""
from nameko.extensions import SharedExtension
from pymongo import MongoClient

from services.common.config import settings


def connect(uri, **kwargs):
    """A client with the options every part of the platform uses: aware datetimes, short
    server selection so an unreachable database is reported quickly instead of hanging."""
    return MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=3000, connectTimeoutMS=3000,
                       appname="bkpm", **kwargs)


def ensure_indexes(db, indexes):
    """Create the indexes declared as {collection: [IndexModel, ...]}; existing ones are kept."""
    for collection, models in indexes.items():
        db[collection].create_indexes(models)


class MongoDatabase(SharedExtension):
    """The service's own database, one client per service process."""

    def setup(self):
        config = settings()
        self.client = connect(config.effective_mongo_uri)
        self.db = self.client[config.database_name(self.container.service_name)]

    def kill(self):
        self.client.close()

    stop = kill
