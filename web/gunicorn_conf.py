"""gunicorn settings for the web front-end: threaded workers (most of a request is spent waiting
for the gateway), sized from the environment."""
from services.common.config import settings

_config = settings()
bind = f"0.0.0.0:{_config.web_port}"
worker_class = "gthread"
workers = _config.web_workers
threads = _config.web_threads
timeout = 30
graceful_timeout = 10
accesslog = None
errorlog = "-"
# Several web servers may run on one machine (tests beside `make run`); none needs the socket.
control_socket_disable = True
