"""The officers' console (/konsol), in the same web app as the citizens' portal and, like it,
reaching the platform only through the gateway's HTTP API. One module per section, each adding
its pages to the one blueprint (`sesi.blp`, which makes every page but the login's need a login):

- sesi: a login's record, the API called with its tokens, the rules of what a person may press;
- formulir: what the forms share (areas by name or code, what was typed, refusals on their fields);
- masuk: logging in and out, the one-time code, passwords;
- dasbor: the dashboard the console opens on;
- unit, kegiatan, aspirasi, bantuan, notifikasi, akun: the sections of the menu."""
from web.konsol import akun, aspirasi, bantuan, dasbor, kegiatan, masuk, notifikasi, unit  # noqa: F401 (their pages)
from web.konsol.sesi import blp


def register(app, store):
    app.extensions["konsol_sesi"] = store
    app.register_blueprint(blp)
