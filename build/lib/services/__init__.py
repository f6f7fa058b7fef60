import warnings

# Nameko 2.14 needs eventlet; its deprecation notice is known and would only clutter the logs.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
