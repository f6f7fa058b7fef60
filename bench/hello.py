"""The baseline of the gateway's reads: a bare Flask app that says hello, served by gunicorn
with the gateway's own settings (gateway/gunicorn_conf.py)."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def halo():
    return {"halo": "dunia"}
