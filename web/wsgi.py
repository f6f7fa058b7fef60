"""The WSGI entry point gunicorn serves: `gunicorn -c python:web.gunicorn_conf web.wsgi:app`."""
from services.common.config import settings
from services.common.logs import configure_logging
from web.app import create_app

configure_logging("web", settings().log_level)
app = create_app()
