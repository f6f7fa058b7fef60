"""The console's shared frame (web/konsol/sesi.py): every role logs in through the fixture the
sections' tests use, and sees its name, role and area above each page and its sections in the menu."""
import pytest


@pytest.mark.parametrize("role", ["admin", "pemantau"])
def test_each_role_logs_in_and_sees_who_it_is(officer, axe, role):
    one, account = officer(role, "33.74", nama=f"Rina {role.title()}")
    header = one.page.inner_text(".akun-baris")
    assert f"Rina {role.title()}" in header and role.title() in header and "Semarang" in header.title()
    assert "Dasbor" in one.page.inner_text("nav")
    axe(one.page)
