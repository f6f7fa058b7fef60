"""The notifikasi service: tells people (and other systems) what concerns them, exactly once per
event, recipient and channel.

Entrypoints only: who hears what, how a delivery is tried, settled and retried, and what the
gateway asks are use cases (services/notifikasi/usecases.py); sending over the network is
services/notifikasi/channels.py, handed to them as the `Postman`."""
from functools import partial

import eventlet
from nameko.timer import timer

from services.common.config import settings
from services.common.consumer import event_handler
from services.common.events import PUBLIC_EXCHANGE
from services.common.extensions import BaseService
from services.common.messaging import CachedRpcProxy, RpcProxy, rpc
from services.common.metrics import NOTIFICATIONS
from services.common.mongo import utcnow
from services.common.schema import load
from services.common.store import Store
from services.notifikasi import channels, usecases
from services.notifikasi.repository import NotifikasiRepository
from services.notifikasi.schemas import (EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS, KotakMasukQuerySchema,
                                         PengirimanQuerySchema, PreferensiBaruSchema, WebhookBaruSchema)
from services.organisasi import lookups

SENDS_AT_ONCE = 10
TEMPLATES = channels.Templates(settings().template_dir)
RETENTION = settings().notifikasi_retention  # checked as the service starts: a bad value stops it
FORGET_EVERY_SECONDS = 3600


def postman():
    """Delivering as this process is configured: over the real channels, counted in the metrics."""
    config = settings()
    return usecases.Postman(
        send=partial(channels.send, config), templates=TEMPLATES, channels=channels.configured(config),
        max_attempts=config.notifikasi_max_attempts, retry_base_seconds=config.notifikasi_retry_base_seconds,
        retry_cap_seconds=config.notifikasi_retry_cap_seconds, lease_seconds=config.notifikasi_lease_seconds,
        public_url=config.public_url, portal_url=config.portal_url, clock=utcnow,
        on_settled=lambda channel, status: NOTIFICATIONS.labels(channel, status).inc())


class NotifikasiService(BaseService):
    name = "notifikasi"

    store = Store(NotifikasiRepository, EVENT_DATA_SCHEMAS, PUBLIC_DATA_SCHEMAS)
    organisasi = CachedRpcProxy("organisasi", lookups.CACHEABLE)
    kegiatan = RpcProxy("kegiatan")
    bantuan = RpcProxy("bantuan")
    akun = RpcProxy("akun")

    # Who hears what

    @event_handler("kegiatan", "kegiatan.dijadwalkan")
    def kegiatan_dijadwalkan(self, event):
        usecases.tell_unit(event, self.store, self.organisasi, postman())

    @event_handler("kegiatan", "kegiatan.dibatalkan")
    def kegiatan_dibatalkan(self, event):
        usecases.tell_unit(event, self.store, self.organisasi, postman())

    @event_handler("kegiatan", "kegiatan.diubah")
    def kegiatan_diubah(self, event):
        usecases.tell_unit_of_reschedule(event, self.store, self.organisasi, postman())

    @event_handler("organisasi", "pengurus.diangkat")
    def pengurus_diangkat(self, event):
        usecases.tell_appointee(event, self.store, self.organisasi, postman())

    @event_handler("bantuan", "penyaluran.dicatat")
    def penyaluran_dicatat(self, event):
        usecases.tell_recipient(event, self.store, self.bantuan, postman())

    @event_handler("bantuan", "kuota.habis")
    def kuota_habis(self, event):
        usecases.tell_board(event, self.store, self.organisasi, postman())

    @event_handler("kegiatan", "aspirasi.diterima")
    def aspirasi_diterima(self, event):
        usecases.tell_new_aspirasi(event, self.store, self.organisasi, self.kegiatan, postman())

    @event_handler("kegiatan", "aspirasi.diperbarui")
    def aspirasi_diperbarui(self, event):
        usecases.tell_reporter(event, self.store, self.kegiatan, postman())

    @event_handler("kegiatan", "aspirasi.terlambat")
    def aspirasi_terlambat(self, event):
        usecases.escalate_late_aspirasi(event, self.store, self.organisasi, postman())

    @event_handler("kegiatan", "aspirasi.pelapor_dihapus")
    def aspirasi_pelapor_dihapus(self, event):
        usecases.forget_person("pelapor", event, self.store)

    @event_handler("bantuan", "penerima.dihapus")
    def penerima_dihapus(self, event):
        usecases.forget_person("penerima", event, self.store)

    @event_handler("akun", "akun.reset_diminta")
    def akun_reset_diminta(self, event):
        usecases.send_reset_link(event, self.store, self.akun, postman())

    @event_handler(PUBLIC_EXCHANGE, "#", keyed_by_event=True)
    def teruskan(self, event):
        usecases.forward_to_webhooks(event, self.store)

    # Delivering

    @timer(interval=settings().notifikasi_poll_seconds)
    def kirim_ulang(self):
        pool = eventlet.GreenPool(SENDS_AT_ONCE)
        usecases.attempt_due(self.store, postman(), pool.spawn_n)
        pool.waitall()

    @timer(interval=FORGET_EVERY_SECONDS, eager=True)
    def lupakan_lama(self):
        usecases.forget_old(self.store, RETENTION, utcnow())

    # Over the gateway

    @rpc
    def list_pengiriman(self, token, query):
        return usecases.list_pengiriman(self.caller(token), load(PengirimanQuerySchema, query), self.store)

    @rpc
    def list_pesan(self, token, query):
        return usecases.list_pesan(self.caller(token), load(KotakMasukQuerySchema, query), self.store)

    @rpc
    def baca_pesan(self, token, pesan_id):
        return usecases.baca_pesan(self.caller(token), pesan_id, self.store)

    @rpc
    def get_preferensi(self, token):
        return usecases.get_preferensi(self.caller(token), self.store)

    @rpc
    def atur_preferensi(self, token, payload):
        return usecases.atur_preferensi(self.caller(token), load(PreferensiBaruSchema, payload), self.store)

    @rpc
    def get_tautan_berhenti(self, tautan):
        return usecases.get_tautan_berhenti(tautan, self.store)

    @rpc
    def hentikan_langganan(self, tautan):
        return usecases.hentikan_langganan(tautan, self.store)

    @rpc
    def daftarkan_webhook(self, token, payload):
        return usecases.daftarkan_webhook(self.caller(token), load(WebhookBaruSchema, payload), self.store)

    @rpc
    def list_webhook(self, token):
        return usecases.list_webhook(self.caller(token), self.store)

    @rpc
    def hapus_webhook(self, token, webhook_id):
        usecases.hapus_webhook(self.caller(token), webhook_id, self.store)
