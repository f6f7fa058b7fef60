"""The console's first page (/konsol): the dashboard of the person's area."""
from flask import render_template

from web.konsol.sesi import blp


@blp.get("")
def beranda():
    return render_template("konsol/beranda.html")
