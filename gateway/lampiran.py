"""Photos and documents (lampiran) of activities and of aid distributions over HTTP: uploaded as
multipart/form-data (the file in the part `berkas`), listed, downloaded and removed.

The file travels to the service that owns the record in the RPC call, base64 (a 10 MiB file is a
message of about 13.4 MiB: within the broker's max_message_size, deploy/rabbitmq/rabbitmq.conf),
and comes back the same way; the service decides what it is and what it keeps
(services/common/attachments.py)."""
import base64
import io

from flask import request, send_file
from flask.views import MethodView
from flask_smorest.fields import Upload
from webargs.flaskparser import abort
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.blueprint import Blueprint, call, created
from gateway.problems import handle_domain_error
from services.common import attachments
from services.common.schema import BaseSchema, PageQuerySchema, aturan

# Decoding and encoding a large photo again takes the service seconds; a file of 10 MiB each way.
UPLOAD_TIMEOUT = 60
DOWNLOAD_TIMEOUT = 30
# What a multipart body carries beside its file: boundaries and part headers.
MULTIPART_ROOM = 64 * 1024
BINARY = {"schema": {"type": "string", "format": "binary"}}
DOWNLOADED = {
    "description": "Isi berkas, sebagai unduhan (Content-Disposition: attachment).",
    "content": {tipe: BINARY for tipe in attachments.EXTENSIONS},
    "headers": {
        "Content-Disposition": {"description": "attachment, dengan nama berkas yang dibersihkan.",
                                "schema": {"type": "string"}},
        "ETag": {"description": "SHA-256 berkas.", "schema": {"type": "string"}},
        "X-Content-Type-Options": {"description": "nosniff", "schema": {"type": "string"}},
    },
}

blp = Blueprint("lampiran", __name__, url_prefix="/api/v1",
                description="Foto dan dokumen kegiatan dan penyaluran bantuan: JPEG, PNG atau PDF (dikenali dari "
                            "isinya), paling besar 10 MiB, paling banyak 20 per data; foto disimpan tanpa EXIF "
                            "(termasuk posisi GPS).")


def refuse_other_fields():
    """The upload's only part is `berkas`: any other (a form field the files location does not
    see) is refused as an unknown field is everywhere else."""
    if request.form:
        abort(400, messages={"form": {name: ["Field tidak dikenal."] for name in request.form}})


class BerkasSchema(BaseSchema):
    berkas = Upload(required=True, metadata=aturan("JPEG, PNG atau PDF menurut isinya (bukan namanya).", {
        "description": "Paling besar 10 MiB."}))


@blp.before_request
def allow_a_file():
    """These routes take a file: a body larger than the 1 MiB of every other route (the token is
    checked first, by the blueprint's own before_request)."""
    request.max_content_length = attachments.MAX_BYTES + MULTIPART_ROOM


@blp.errorhandler(RequestEntityTooLarge)
def body_too_large(error):
    """A body past the limit, refused before it is read: said as for a file just over it."""
    return handle_domain_error(attachments.too_large())


def sent(storage):
    """The RPC payload of an uploaded file: 413 past MAX_BYTES, without reading further."""
    content = storage.read(attachments.MAX_BYTES + 1)
    if len(content) > attachments.MAX_BYTES:
        raise attachments.too_large()
    return {"berkas": base64.b64encode(content).decode("ascii"), "nama_berkas": storage.filename or None}


def downloaded(lampiran):
    """The file as the browser must take it: a download of the type it was recognised as, never
    sniffed as anything else nor run as a page, kept in no shared cache (nor on a shared
    computer's disk: it shows people)."""
    response = send_file(io.BytesIO(base64.b64decode(lampiran["isi"])), mimetype=lampiran["tipe"],
                         as_attachment=True, download_name=lampiran["nama_berkas"], etag=lampiran["sha256"],
                         conditional=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def attachment_routes(path, service, label):
    """The attachments of one kind of record at `path` (whose last part names its id), kept by `service`."""
    record_param = path.rsplit("<", 1)[1].rstrip(">")
    location = f"{blp.url_prefix}{path.replace('<', '{').replace('>', '}')}/lampiran/{{id}}"

    @blp.route(f"{path}/lampiran", endpoint=f"lampiran_{label}")
    class Lampiran(MethodView):
        @blp.doc(summary=f"Lampiran {label}, yang terlama dahulu.")
        @blp.arguments(PageQuerySchema, location="query")
        @blp.documents(200, attachments.LampiranPageSchema, 400, 403, 404)
        def get(self, query, **ids):
            return call(service, "list_lampiran", ids[record_param], query)

        @blp.doc(summary=f"Unggah foto atau dokumen {label}.",
                 description="JPEG, PNG atau PDF, dikenali dari isinya, bukan dari namanya; paling besar 10 MiB "
                             "(413), paling banyak 20 per data (409 `lampiran_penuh`). Foto disimpan ulang tegak dan "
                             "tanpa EXIF, XMP atau komentar (posisi GPS rumah ikut terhapus); PDF disimpan apa adanya. "
                             "Ukuran dan SHA-256 jawaban adalah milik berkas yang tersimpan.")
        @blp.arguments(BerkasSchema, location="files")
        @blp.documents(201, attachments.LampiranSchema, 400, 403, 404, 409, 413)
        def post(self, files, **ids):
            refuse_other_fields()
            return created(call(service, "tambah_lampiran", ids[record_param], sent(files["berkas"]),
                                timeout=UPLOAD_TIMEOUT), location)

    @blp.route(f"{path}/lampiran/<lampiran_id>", endpoint=f"satu_lampiran_{label}")
    class SatuLampiran(MethodView):
        @blp.doc(summary=f"Unduh satu lampiran {label}.", responses={200: DOWNLOADED})
        @blp.documents(200, None, 403, 404)
        def get(self, lampiran_id, **ids):
            return downloaded(call(service, "get_lampiran", ids[record_param], lampiran_id,
                                   timeout=DOWNLOAD_TIMEOUT))

        @blp.doc(summary=f"Hapus satu lampiran {label}.")
        @blp.documents(204, None, 403, 404)
        def delete(self, lampiran_id, **ids):
            call(service, "hapus_lampiran", ids[record_param], lampiran_id)
            return "", 204


attachment_routes("/kegiatan/<kegiatan_id>", "kegiatan", "kegiatan")
attachment_routes("/bantuan/penyaluran/<penyaluran_id>", "bantuan", "penyaluran")
