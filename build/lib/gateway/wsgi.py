"""The WSGI entry point gunicorn serves: `gunicorn -c python:gateway.gunicorn_conf gateway.wsgi:app`."""
from gateway.app import create_app
from services.common.config import settings
from services.common.logs import configure_logging

configure_logging("gateway", settings().log_level)
app = create_app()
