"""Attachments (lampiran): the photos and documents of a record (an activity, a distribution of
aid). A file is taken for what its content is, never for what its name says: a JPEG or PNG
image, or a PDF document, of at most 10 MiB, at most 20 per record. Images are decoded and
encoded again, turned upright first, so that nothing the camera wrote into them is kept: a
phone photo's EXIF block carries the GPS position of where it was taken, the recipient's house.
PDFs are kept as they are.

The steps of adding, listing, handing out and removing an attachment are the same whoever owns
the record; each service's use cases only say whose record it is and who may do what
(`Induk`), and its repository holds the files (`store.lampiran`: services/common/files.py).

Framework-free core (Pillow, marshmallow): imported by the use cases and schemas of kegiatan
and bantuan, and the gateway (its limits and schemas)."""
import base64
import binascii
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from marshmallow import fields, validate
from PIL import Image, ImageOps

from services.common.errors import Conflict, InvalidInput, NotFound, TooLarge
from services.common.schema import BaseSchema, instance, page_of, page_result

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_RECORD = 20
# An image is decoded whole to be encoded again: 50 megapixels (what a phone's largest photo that
# fits in 10 MiB has) take about 150 MB of memory, decoded. Fewer bytes than that may unpack into
# far more pixels (a "decompression bomb"); such an image is refused before it is decoded.
MAX_PIXELS = 50_000_000
JPEG, PNG, PDF = "image/jpeg", "image/png", "application/pdf"
EXTENSIONS = {JPEG: ".jpg", PNG: ".png", PDF: ".pdf"}
# Pillow's name of each format taken, and what it is stored as: a phone's multi-picture JPEG (MPO,
# with a depth map or a preview) is a JPEG whose first picture is kept.
PILLOW_FORMATS = {"JPEG": JPEG, "MPO": JPEG, "PNG": PNG}
# Re-encoded photos at this JPEG quality, or the next one down if it would exceed MAX_BYTES.
JPEG_QUALITIES = (90, 80, 70)
# What an image keeps of what came with it: its colour profile (colours only; no place, no time)
# and, for a PNG, which colour is transparent. EXIF, XMP, comments and text chunks are dropped.
KEPT_INFO = ("icc_profile", "transparency")
NAME_LENGTH = 100
# A file name keeps letters, digits, spaces and . _ ( ) -; anything else becomes '_'.
NAME_UNSAFE = re.compile(r"[^\w .()-]+")
# The field of a record that counts its attachments (kept in the record's own document).
COUNT = "jumlah_lampiran"
# Stored but not attached for this long (a crash between the two steps of `add`), a file is a leftover.
LEFTOVER_AFTER = timedelta(hours=1)
FULL = f"Sudah ada {MAX_PER_RECORD} lampiran; hapus salah satunya dahulu."
NOT_TAKEN = "Berkas harus berupa foto JPEG atau PNG, atau dokumen PDF."
TOO_MANY_PIXELS = f"Gambar terlalu besar: paling banyak {MAX_PIXELS // 1_000_000} juta piksel."


def too_large():
    return TooLarge(f"Berkas paling besar {MAX_BYTES // (1024 * 1024)} MiB.")


def _refused(message):
    return InvalidInput({"berkas": [message]})


# The file itself

def recognise(content):
    """What `content` is: PDF by its header, JPEG or PNG by Pillow reading it (the image, opened
    for reading, or None for a PDF); 400 for anything else."""
    if content.startswith(b"%PDF-"):
        return PDF, None
    try:
        image = _opened(content)  # reads the header only: the size is known before any pixel is decoded
        if image.width * image.height <= MAX_PIXELS:
            image.verify()  # a PNG's checksums; verify leaves the image unusable, so it is opened again
            return PILLOW_FORMATS[image.format], _opened(content)
    except Image.DecompressionBombError:
        pass  # more pixels than Pillow opens at all: over ours too
    except Exception:  # Pillow tells a file it cannot read by many kinds of error
        raise _refused(NOT_TAKEN) from None
    raise _refused(TOO_MANY_PIXELS)


def _opened(content):
    return Image.open(io.BytesIO(content), formats=("JPEG", "PNG"))  # an MPO comes through JPEG's opener


def without_metadata(image, tipe):
    """The image encoded again, upright (as its EXIF orientation said to show it) and without
    EXIF, XMP, comments or text chunks: a JPEG at quality 90 (lower, if that would exceed
    MAX_BYTES), a PNG optimised. 400 for an image that cannot be decoded whole."""
    try:
        upright = ImageOps.exif_transpose(image)
        upright.info = {name: image.info[name] for name in KEPT_INFO if name in image.info}
        kept = {"icc_profile": upright.info["icc_profile"]} if "icc_profile" in upright.info else {}
        for quality in JPEG_QUALITIES if tipe == JPEG else (None,):
            out = io.BytesIO()
            if tipe == JPEG:
                upright.save(out, "JPEG", quality=quality, **kept)
            else:
                upright.save(out, "PNG", optimize=True, **kept)
            if out.tell() <= MAX_BYTES:
                return out.getvalue()
    except Exception:  # truncated or corrupt data shows only once the pixels are decoded
        raise _refused("Gambar rusak atau tidak lengkap.") from None
    raise too_large()


def safe_name(name, tipe):
    """The name a file is kept and handed out by: the last part of what the sender called it,
    without characters a header or a file system could take for something else, with the
    extension of what it is (a PNG sent as 'foto.pdf' is 'foto.png')."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", name or "")[-1])
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = NAME_UNSAFE.sub("_", stem).strip(" ._")[:NAME_LENGTH].strip(" ._")
    return f"{stem or 'lampiran'}{EXTENSIONS[tipe]}"


def prepare(content, name):
    """The file as it is kept: {isi, tipe, ukuran, sha256, nama_berkas}; images without their
    metadata, PDFs as they came. The size and hash are those of what is kept and handed out."""
    if len(content) > MAX_BYTES:
        raise too_large()
    tipe, image = recognise(content)
    kept = content if image is None else without_metadata(image, tipe)
    return {"isi": kept, "tipe": tipe, "ukuran": len(kept), "sha256": hashlib.sha256(kept).hexdigest(),
            "nama_berkas": safe_name(name, tipe)}


def decoded(text):
    """The bytes of a file sent over RPC as base64 text; 413 past MAX_BYTES, before decoding."""
    if len(text) > (MAX_BYTES + 2) // 3 * 4:
        raise too_large()
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _refused("Isi berkas harus berupa base64.") from None


# Schemas: the RPC payload, what callers see, the events' data

class LampiranBaruSchema(BaseSchema):
    """An upload as the gateway sends it over RPC."""
    berkas = fields.String(required=True, metadata={"description": "Isi berkas, base64."})
    nama_berkas = fields.String(load_default=None, validate=validate.Length(max=1000))


class LampiranSchema(BaseSchema):
    id = fields.String(required=True)
    tipe = fields.String(required=True, metadata={"description": "Jenis isi menurut isinya: image/jpeg, "
                                                                 "image/png atau application/pdf."})
    ukuran = fields.Integer(required=True, metadata={"description": "Besar berkas tersimpan, dalam byte."})
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 berkas tersimpan (heksadesimal)."})
    nama_berkas = fields.String(required=True, metadata={
        "description": "Nama berkas kiriman yang dibersihkan, berekstensi sesuai isinya."})
    diunggah = fields.AwareDateTime(required=True)


class LampiranIsiSchema(LampiranSchema):
    """An attachment with its content, as a service hands it to the gateway."""
    isi = fields.String(required=True, metadata={"description": "Isi berkas, base64."})


LampiranPageSchema = page_of(LampiranSchema)


class LampiranData(BaseSchema):
    """An attachment in an event: what it is, never its content or the name it was sent by (a
    name may carry a person's name or NIK). Each service adds the id of the record it is of."""
    id = fields.String(required=True)
    tipe = fields.String(required=True)
    ukuran = fields.Integer(required=True)
    sha256 = fields.String(required=True)


# The steps, whoever owns the record

@dataclass(frozen=True)
class Induk:
    """The record attachments belong to: its kind as its events name it ('kegiatan',
    'penyaluran'), its id, its area (the events') and how many attachments it holds."""
    jenis: str
    id: str
    kode_wilayah: str
    jumlah: int = 0

    def subject(self, lampiran_id):
        return f"{self.jenis}/{self.id}/lampiran/{lampiran_id}"

    def event_data(self, lampiran):
        return {**lampiran, f"{self.jenis}_id": self.id}


def run_here(function, *args):
    return function(*args)


def add(actor, induk, data, store, offload=run_here, then=None):
    """Keep the file sent as an attachment of `induk`, with `lampiran.ditambahkan`. The file is
    stored first (storage of files takes no part in transactions), then attached in one
    transaction with the record's count and the event; a file not attached (the record full,
    someone else's upload taking the 20th place first, a failure) is thrown away, and one left
    by a crash in between is swept later (`sweep`). `offload` runs the decoding and encoding,
    which take a second of CPU for a large photo (the service: a thread of its own);
    `then(tx, lampiran)` writes more in the same transaction (bantuan's audit trail)."""
    content = decoded(data["berkas"])
    if induk.jumlah >= MAX_PER_RECORD:
        raise Conflict(FULL, code="lampiran_penuh")
    berkas = offload(prepare, content, data.get("nama_berkas"))
    lampiran_id = store.lampiran.put(induk.id, berkas, actor.sub)

    def attach(tx):
        attached = store.lampiran.attach(tx, lampiran_id, induk.id, MAX_PER_RECORD)
        if attached is None:
            raise Conflict(FULL, code="lampiran_penuh")
        tx.emit("lampiran.ditambahkan", induk.subject(lampiran_id), induk.event_data(attached), induk.kode_wilayah)
        if then:
            then(tx, attached)
        return attached

    try:
        attached = store.uow.commit(attach)
    except BaseException:
        store.lampiran.discard(lampiran_id)
        raise
    return instance(LampiranSchema).dump(attached)


def page(induk, query, store):
    """The record's attachments, oldest first."""
    items, total = store.lampiran.page(induk.id, query["page"], query["per_page"])
    return page_result(LampiranSchema(many=True).dump(items), total, query)


def download(induk, lampiran_id, store):
    """One attachment of the record with its content (base64); 404 for one it does not have."""
    lampiran = store.lampiran.find(induk.id, lampiran_id)
    content = None if lampiran is None else store.lampiran.content(lampiran_id)
    if content is None:
        raise NotFound(f"Lampiran {lampiran_id} tidak ditemukan.")
    return instance(LampiranIsiSchema).dump({**lampiran, "isi": base64.b64encode(content).decode("ascii")})


def remove(induk, lampiran_id, store, then=None):
    """Remove an attachment of the record, with `lampiran.dihapus` (and `then(tx, lampiran)`, as
    for `add`); its content is deleted once that is committed (or by the next sweep, if that fails)."""
    def detach(tx):
        removed = store.lampiran.detach(tx, lampiran_id, induk.id)
        if removed is not None:
            tx.emit("lampiran.dihapus", induk.subject(lampiran_id), induk.event_data(removed), induk.kode_wilayah)
            if then:
                then(tx, removed)
        return removed

    if store.uow.commit(detach) is None:
        raise NotFound(f"Lampiran {lampiran_id} tidak ditemukan.")
    store.lampiran.discard(lampiran_id)


def sweep(store, now):
    """Delete the files no record holds: left by a crash while being added, or removed but not
    yet deleted. The count deleted."""
    return store.lampiran.sweep(now - LEFTOVER_AFTER)
