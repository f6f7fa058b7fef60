"""gunicorn settings for the gateway: threaded workers (no eventlet), sized from the environment."""
from services.common.config import settings

_config = settings()
bind = f"0.0.0.0:{_config.gateway_port}"
worker_class = "gthread"
workers = _config.gateway_workers
threads = _config.gateway_threads
timeout = 30
graceful_timeout = 10
accesslog = None
errorlog = "-"
# Several gateways may run on one machine (tests beside `make run`); none needs the socket.
control_socket_disable = True
