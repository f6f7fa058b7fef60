"""Attachments in MongoDB GridFS (bucket `lampiran` of the owning service's own database): the
content in `lampiran.chunks`, what it is in the files document's `metadata` (the record it
belongs to, its state, type, SHA-256, who sent it), and how many a record holds in the
record's own document (services.common.attachments.COUNT).

GridFS takes no part in transactions, so a file is stored first, `menunggu` (waiting), and
attached in the transaction that counts it against the record's limit and emits its event
(`tersimpan`); a removal marks it `dihapus` in the transaction of its event, and its content
goes after the commit. Whatever a crash leaves in between is swept (`sweep`).

Adapter (pymongo, gridfs): imported by the repositories of kegiatan and bantuan."""
import logging

import gridfs
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import PyMongoError

from services.common.attachments import COUNT
from services.common.mongo import new_id

log = logging.getLogger(__name__)

BUCKET = "lampiran"
FILES, CHUNKS = f"{BUCKET}.files", f"{BUCKET}.chunks"
MENUNGGU, TERSIMPAN, DIHAPUS = "menunggu", "tersimpan", "dihapus"
ATTACHMENT_INDEXES = {
    # GridFS's own two (the driver would create them on the first upload, outside any plan).
    FILES: [IndexModel([("filename", ASCENDING), ("uploadDate", ASCENDING)], name="filename_1_uploadDate_1"),
            IndexModel([("metadata.induk_id", ASCENDING), ("metadata.status", ASCENDING),
                        ("uploadDate", ASCENDING)], name="induk"),
            IndexModel([("metadata.status", ASCENDING), ("uploadDate", ASCENDING)], name="status")],
    CHUNKS: [IndexModel([("files_id", ASCENDING), ("n", ASCENDING)], unique=True, name="files_id_1_n_1")],
}


def as_lampiran(document):
    """A files document as the use cases see an attachment."""
    if document is None:
        return None
    metadata = document["metadata"]
    return {"id": document["_id"], "induk_id": metadata["induk_id"], "status": metadata["status"],
            "tipe": metadata["tipe"], "sha256": metadata["sha256"], "diunggah_oleh": metadata["diunggah_oleh"],
            "ukuran": document["length"], "nama_berkas": document["filename"], "diunggah": document["uploadDate"]}


class Attachments:
    """The attachments of the records of one collection (`records`) of a service's database."""

    def __init__(self, db, records):
        self.db = db
        self.records = records
        self.bucket = gridfs.GridFSBucket(db, BUCKET)

    def put(self, record_id, berkas, by):
        """Store a file prepared by services.common.attachments.prepare, not yet attached; its id."""
        lampiran_id = new_id()
        self.bucket.upload_from_stream_with_id(lampiran_id, berkas["nama_berkas"], berkas["isi"], metadata={
            "induk_id": record_id, "status": MENUNGGU, "tipe": berkas["tipe"], "sha256": berkas["sha256"],
            "diunggah_oleh": by})
        return lampiran_id

    def attach(self, tx, lampiran_id, record_id, limit):
        """Count a stored file among the record's attachments, if it holds fewer than `limit`:
        the attachment, or None when it is full. Two uploads at once both change the record's
        document, so the second transaction conflicts, runs again and finds the count taken."""
        counted = self.db[self.records].find_one_and_update(
            {"_id": record_id, "$or": [{COUNT: {"$lt": limit}}, {COUNT: {"$exists": False}}]},
            {"$inc": {COUNT: 1}}, session=tx.session)
        if counted is None:
            return None
        return as_lampiran(self.db[FILES].find_one_and_update(
            {"_id": lampiran_id, "metadata.status": MENUNGGU}, {"$set": {"metadata.status": TERSIMPAN}},
            session=tx.session, return_document=ReturnDocument.AFTER))

    def detach(self, tx, lampiran_id, record_id):
        """Take an attachment off the record: the attachment, or None if the record has no such one."""
        removed = as_lampiran(self.db[FILES].find_one_and_update(
            {"_id": lampiran_id, "metadata.induk_id": record_id, "metadata.status": TERSIMPAN},
            {"$set": {"metadata.status": DIHAPUS}}, session=tx.session, return_document=ReturnDocument.AFTER))
        if removed is not None:
            self.db[self.records].update_one({"_id": record_id}, {"$inc": {COUNT: -1}}, session=tx.session)
        return removed

    def discard(self, lampiran_id):
        """Delete a file and its content; one the database does not let go now is left to the sweep."""
        try:
            self.bucket.delete(lampiran_id)
        except gridfs.errors.NoFile:
            pass
        except PyMongoError as exc:
            log.warning("attachment %s not deleted now, left for the sweep: %r", lampiran_id, exc)

    def find(self, record_id, lampiran_id):
        return as_lampiran(self.db[FILES].find_one(
            {"_id": lampiran_id, "metadata.induk_id": record_id, "metadata.status": TERSIMPAN}))

    def content(self, lampiran_id):
        """A file's bytes, or None if it is gone."""
        try:
            return self.bucket.open_download_stream(lampiran_id).read()
        except gridfs.errors.NoFile:
            return None

    def page(self, record_id, page, per_page):
        criteria = {"metadata.induk_id": record_id, "metadata.status": TERSIMPAN}
        found = self.db[FILES].find(criteria).sort([("uploadDate", ASCENDING), ("_id", ASCENDING)])
        items = [as_lampiran(document) for document in found.skip((page - 1) * per_page).limit(per_page)]
        return items, self.db[FILES].count_documents(criteria)

    def sweep(self, before):
        """Delete the files stored before `before` and never attached, and those removed: the count."""
        leftovers = self.db[FILES].find({"$or": [{"metadata.status": MENUNGGU, "uploadDate": {"$lt": before}},
                                                 {"metadata.status": DIHAPUS}]}, {"_id": 1})
        swept = [document["_id"] for document in leftovers]
        for lampiran_id in swept:
            self.discard(lampiran_id)
        return len(swept)
