"""Corrections by JSON merge patch (RFC 7396), guarded by the version the caller read.

A correction is made against what the caller saw: the gateway hands every single-resource
answer an ETag (`etag_of` its JSON) and a PATCH must send it back in `If-Match`. The use case
renders the record as that caller sees it, inside the transaction that writes it, and refuses
the change (412) unless the ETags match; the write itself is conditional on the record being
still as read (`unchanged`), so two corrections racing cannot both pass.

Framework-free core: imported by the gateway (ETags of answers) and the services' use cases."""
import hashlib
import json

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


def unchanged(record):
    """A filter matching `record` only while every field is as read: the correction's write is
    conditional on it, and finding nothing means someone changed the record meanwhile (412)."""
    return dict(record)
