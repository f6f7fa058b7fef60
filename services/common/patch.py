"""Corrections by JSON merge patch (RFC 7396), guarded by the version the caller read.

A correction is made against what the caller saw: the gateway hands every single-resource
answer an ETag (`etag_of` its JSON) and a PATCH must send it back in `If-Match`. The use case
reads the record for the change, renders it as that caller sees it and refuses the change
(412) unless the ETags match; the write itself is conditional on the record being still as
read (`Correction.save`), so two corrections racing cannot both pass.

A correction use case goes the same way in every service: read the record (404/403 as for the
entity's other writes), `require_version` against the view of it this caller's GET shows (412),
the entity's state (409), `Correction.apply` the patch, the corrected record's rules (400/409),
nothing more when nothing changed, then `Correction.save` it with its event.

Framework-free core: imported by the gateway (ETags of answers) and the services' use cases."""
import hashlib
import json
from dataclasses import dataclass

from services.common.errors import PreconditionFailed

# If-Match: * (RFC 9110 §13.1.1): any current version will do.
ANY_VERSION = "*"


def etag_of(view):
    """The entity tag of a JSON answer: a digest of its canonical JSON (keys sorted), so the
    gateway (from the answer it sends) and a service (from the view it renders) agree."""
    canonical = json.dumps(view, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def require_version(if_match, view):
    """Refuse (412) a change made against another version than `view`, the record as this caller
    sees it now. `if_match` is the list of entity tags the caller sent (the gateway makes sure
    there is one: 428 otherwise)."""
    if ANY_VERSION not in if_match and etag_of(view) not in if_match:
        raise PreconditionFailed()


def merge_patch(target, patch):
    """RFC 7396 §2: `patch` applied to `target` (neither is changed): a member set to null is
    removed, an object merges into an object, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def changed_fields(before, after):
    """{field: {"lama": old, "baru": new}} for each top-level field whose value differs (a field
    removed has `baru` None): what an audit entry keeps. Its keys, sorted, are what an event
    says changed (never the values, which may be personal data)."""
    return {name: {"lama": before.get(name), "baru": after.get(name)}
            for name in sorted(before.keys() | after.keys()) if before.get(name) != after.get(name)}


@dataclass(frozen=True)
class Correction:
    """A kind of record people correct: the collection it is kept in, the fields a correction
    may change (`editable`), and the event that tells of one. `keeps_empty`: the service keeps
    every field of its records, an empty one as None (organisasi, bantuan), rather than leaving
    an empty field out (kegiatan)."""
    collection: str
    editable: tuple
    event: str
    keeps_empty: bool = True

    def apply(self, before, patch):
        """The record `before` with the merge `patch` applied to its editable fields, and what
        changed ({field: {"lama", "baru"}}, changed_fields)."""
        held = {name: before[name] for name in self.editable if name in before}
        merged = merge_patch(held, patch)
        if self.keeps_empty:
            merged = {name: merged.get(name) for name in self.editable}
        kept = {name: value for name, value in before.items() if name in merged or name not in self.editable}
        return {**kept, **merged}, changed_fields(held, merged)

    def save(self, tx, store, before, after, changes, subject, wilayah, data=None):
        """Write `after` over `before` only while the record is still as read (412 otherwise:
        someone changed it since), and tell of it: the event's `data` (by default the record as
        corrected) with `diubah`, the sorted names of the fields changed, never their values."""
        if not store.replace_if_unchanged(tx, self.collection, before, after):
            raise PreconditionFailed()
        tx.emit(self.event, subject, {**(after if data is None else data), "diubah": sorted(changes)}, wilayah)
