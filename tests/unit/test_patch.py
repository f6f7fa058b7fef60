"""Corrections: RFC 7396 merge patches, the versions they are made against, and what changed."""
import pytest

from services.common.errors import PreconditionFailed
from services.common.patch import ANY_VERSION, changed_fields, etag_of, merge_patch, require_version


def test_merge_patch_follows_rfc_7396_examples():
    # RFC 7396 Appendix A, a few of its cases.
    assert merge_patch({"a": "b"}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": "b"}, {"b": "c"}) == {"a": "b", "b": "c"}
    assert merge_patch({"a": "b", "b": "c"}, {"a": None}) == {"b": "c"}
    assert merge_patch({"a": ["b"]}, {"a": "c"}) == {"a": "c"}
    assert merge_patch({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}) == {"a": {"b": "d"}}
    assert merge_patch({"e": None}, {"a": 1}) == {"e": None, "a": 1}
    assert merge_patch({}, {"a": {"bb": {"ccc": None}}}) == {"a": {"bb": {}}}


def test_merge_patch_leaves_its_inputs_alone():
    target, patch = {"a": {"b": 1}}, {"a": {"b": 2}}
    merge_patch(target, patch)
    assert target == {"a": {"b": 1}} and patch == {"a": {"b": 2}}


def test_etag_ignores_key_order_and_sees_every_value():
    assert etag_of({"a": 1, "b": [1, 2]}) == etag_of({"b": [1, 2], "a": 1})
    assert etag_of({"a": 1}) != etag_of({"a": 2})


def test_a_change_against_another_version_is_refused():
    view = {"id": "u-1", "nama": "BKPM Semarang"}
    require_version([etag_of(view)], view)
    require_version([ANY_VERSION], view)
    with pytest.raises(PreconditionFailed) as refused:
        require_version([etag_of({**view, "nama": "lama"})], view)
    assert refused.value.status == 412 and "diubah" in refused.value.payload["detail"]


def test_changed_fields_name_old_and_new_values():
    assert changed_fields({"nama": "A", "alamat": "x", "telepon": "1"}, {"nama": "B", "alamat": "x"}) == {
        "nama": {"lama": "A", "baru": "B"}, "telepon": {"lama": "1", "baru": None}}
