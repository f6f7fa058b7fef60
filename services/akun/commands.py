"""One-off jobs of the akun service, run from the `bkpm` command line against its database:
the first admin (`bkpm akun buat`), before anyone can log in to open accounts."""
import secrets

from services.akun import domain, usecases
from services.akun.repository import AkunRepository
from services.akun.schemas import EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, AkunBaruSchema
from services.common.mongo import ensure_indexes, utcnow
from services.common.outbox import OUTBOX_INDEXES, UnitOfWork, event_schemas
from services.common.schema import load

EVENTS = event_schemas(EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
OPERATOR = "bkpm-cli"


def create_account(client, db, data, password=None):
    """Open an account straight in the database (with its unique username index), announced
    as `akun.dibuat` through the outbox like any other: the running service's relay publishes
    it. Without `password`, one is made up: returned once, to be changed at the first login
    (`ganti_password_wajib`). Returns (the account, the made-up password or None)."""
    ensure_indexes(db, {**OUTBOX_INDEXES, **AkunRepository.INDEXES})
    made_up = secrets.token_urlsafe(12) if password is None else None
    store = AkunRepository(db, UnitOfWork(client, db, "akun", EVENTS, on_commit=lambda: None))
    data = load(AkunBaruSchema, {**data, "password": made_up or password})
    account = usecases.create_account(data, store, domain.Passwords(), utcnow(), must_change=made_up is not None,
                                      by=OPERATOR)
    return usecases.akun_view(account), made_up
