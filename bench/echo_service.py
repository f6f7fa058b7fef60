"""The baselines of RPC and of a service's memory: a bare Nameko service, run by the platform's
own runner (`python -m services.common.runner bench.echo_service:EchoService`), so it has the
same Nameko settings as the services and nothing else.

`echo` returns what it is given. `commit` is the least a write of the platform must do: it
stores the body and one outbox-like document in one transaction, in the platform's database
server, and returns the body; no validation, no other service, no event published."""
import os
import uuid

import pymongo
from nameko.extensions import DependencyProvider
from nameko.rpc import rpc


class Database(DependencyProvider):
    def setup(self):
        self.client = pymongo.MongoClient(os.environ["MONGO_URI"])

    def kill(self):
        self.client.close()

    def get_dependency(self, worker_ctx):
        return self.client


class EchoService:
    name = "bench_echo"

    client = Database()

    @rpc
    def echo(self, value):
        return value

    @rpc
    def commit(self, value):
        db = self.client["bench_echo"]

        def write(session):
            record = {**value, "_id": uuid.uuid4().hex}
            db.records.insert_one(record, session=session)
            db.outbox.insert_one({"record": record["_id"], "published": None}, session=session)

        with self.client.start_session() as session:
            session.with_transaction(write)
        return value
