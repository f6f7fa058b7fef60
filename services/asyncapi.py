"""The AsyncAPI 3.0 document of the public feed, generated from the public schemas the services
publish with, so the document cannot drift from what is sent: `bkpm asyncapi` prints it,
docs/asyncapi.json holds it, and a test checks the two are the same and that the document is
valid AsyncAPI."""
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from services.akun import schemas as akun
from services.bantuan import schemas as bantuan
from services.common.events import INTERNAL, PUBLIC_EXCHANGE, SPEC_VERSION
from services.common.outbox import CLOUDEVENTS_CONTENT_TYPE
from services.kegiatan import schemas as kegiatan
from services.notifikasi import schemas as notifikasi
from services.organisasi import schemas as organisasi

# The version of the document: the minor number grows with an additive change, the major one
# with a breaking change (docs/public-events.md, "Versioning"). 2.0: the free text and the
# per-person events that never belonged on the feed were taken off it. 2.1: corrections
# (`*.diubah`) and attachments (`lampiran.ditambahkan`, `lampiran.dihapus`), new event types.
VERSION = "2.1.0"

# Every public event type of every service, with the schema of its public data; the internal
# ones (services.common.events.INTERNAL: all of akun's and notifikasi's, a survey answer) are
# not on the feed, so not in the document.
PUBLIC_EVENTS = {service: {event_type: schema for event_type, schema in module.PUBLIC_DATA_SCHEMAS.items()
                           if schema is not INTERNAL}
                 for service, module in (("organisasi", organisasi), ("kegiatan", kegiatan), ("bantuan", bantuan),
                                         ("notifikasi", notifikasi), ("akun", akun))}

DESCRIPTION = """Semua event domain BKPM untuk sistem pemerintah lain, sebagai CloudEvents 1.0 (JSON,
mode terstruktur) di exchange topik `bkpm.publik`. Kunci routing: `<layanan>.<entitas>.<kata
kerja>.<bagian kode wilayah>`, mis. `bantuan.penyaluran.dicatat.31.71.01.1001`; event nasional
berakhir pada kata kerja. Ikat `bantuan.penyaluran.dicatat.31.#` untuk seluruh DKI Jakarta atau
`*.*.*.31.71.#` untuk segala event satu kota. Data publik adalah proyeksi yang disengaja: NIK,
No. KK, nomor telepon, email, nama orang, identitas pelapor dan isi aspirasi tidak pernah ada; teks
yang diketik pengguna hanya bila dinyatakan publik (judul kegiatan, nama unit dan program), tidak
pernah alamat atau alasan pembatalan; tidak ada event per orang (satu jawaban survei, satu
pengiriman notifikasi). Yang tertinggal menyusul dari `GET /api/v1/events` (lihat
docs/public-events.md)."""


def data_schemas():
    """The JSON Schema of each event's public data (and of what they nest), by apispec's
    converter of marshmallow schemas, as the OpenAPI document is made."""
    spec = APISpec("bkpm", "1", "3.1.0", plugins=[MarshmallowPlugin()])
    names = {}
    for service, events in PUBLIC_EVENTS.items():
        for event_type, schema in events.items():
            name = f"{service}.{event_type}.data"
            spec.components.schema(name, schema=schema)
            names[(service, event_type)] = name
    return names, spec.to_dict()["components"]["schemas"]


def envelope(data_ref, event_type, service):
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "time", "datacontenttype", "data"],
        "properties": {
            "specversion": {"const": SPEC_VERSION},
            "id": {"type": "string", "format": "uuid", "description": "Unik per event; pakai untuk membuang duplikat."},
            "source": {"const": f"/bkpm/{service}"},
            "type": {"const": event_type},
            "time": {"type": "string", "format": "date-time"},
            "subject": {"type": "string"},
            "datacontenttype": {"const": "application/json"},
            "wilayah": {"type": ["string", "null"], "description": "Kode wilayah Kemendagri; null untuk nasional."},
            "data": {"$ref": data_ref},
        },
    }


def document(version=VERSION):
    names, schemas = data_schemas()
    channels, operations, messages = {}, {}, {}
    for (service, event_type), name in names.items():
        entity, verb = event_type.split(".", 1)
        key = f"{service}.{event_type}"
        camel = "".join(word.capitalize() for word in key.replace("_", ".").split("."))
        messages[key] = {
            "name": key, "title": event_type, "contentType": CLOUDEVENTS_CONTENT_TYPE,
            "payload": envelope(f"#/components/schemas/{name}", event_type, service),
            "description": "Persisten (delivery mode 2); `message_id` = `id`, `timestamp` = waktu tersimpan.",
            "bindings": {"amqp": {"contentEncoding": "utf-8", "messageType": key, "bindingVersion": "0.3.0"}},
        }
        channels[key] = {
            "address": f"{service}.{entity}.{verb}.{{wilayah}}",
            "title": f"{event_type} ({service})",
            "parameters": {"wilayah": {"description": "Bagian kode wilayah, mis. 31.71.01.1001; kosong (kunci "
                                                      "berakhir pada kata kerja) untuk event nasional."}},
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {"amqp": {"is": "routingKey", "bindingVersion": "0.3.0", "exchange": {
                "name": PUBLIC_EXCHANGE, "type": "topic", "durable": True, "autoDelete": False}}},
        }
        operations[f"receive{camel}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{key}"},
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "BKPM: umpan event publik", "version": version, "description": DESCRIPTION},
        "servers": {"rabbitmq": {"host": "rabbitmq:5672", "protocol": "amqp", "protocolVersion": "0.9.1",
                                 "description": "RabbitMQ deployment wilayah; setiap sistem luar punya "
                                                "pengguna sendiri (docs/public-events.md)."}},
        "defaultContentType": CLOUDEVENTS_CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }
