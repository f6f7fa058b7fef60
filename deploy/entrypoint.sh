#!/bin/sh
# The roles of the one image, with the very commands `make run` and the tests start them with.
#   organisasi | kegiatan | bantuan | notifikasi | akun   a service
#   gateway                                              the HTTP gateway under gunicorn
#   import-wilayah FILE.csv                              load an official area list (one-off)
#   subscribe ARGS...                                    the public feed's subscriber / catch-up (one-off or bridge)
#   healthcheck                                          the check of the role in BKPM_ROLE (Docker HEALTHCHECK)
#   alive                                                whether the service in BKPM_ROLE is wedged (liveness probe)
#   anything else                                        run as given (e.g. `bkpm token --role admin`)
set -eu
role="${1:-gateway}"
[ "$#" -gt 0 ] && shift
case "$role" in
    organisasi|kegiatan|bantuan|notifikasi|akun) exec python -m "services.$role" ;;
    gateway) exec gunicorn -c python:gateway.gunicorn_conf gateway.wsgi:app ;;
    import-wilayah) exec bkpm wilayah import "$@" ;;
    subscribe) exec bkpm subscribe "$@" ;;
    healthcheck) exec bkpm health "${BKPM_ROLE:-gateway}" ;;
    alive)
        # The service's event loop touches its heartbeat every 5 s (services/common/runner.py):
        # a file older than 30 s means a wedged process, which only a restart mends. Cheap, and
        # blind to broker and database outages, which must not restart every pod.
        heartbeat="${TMPDIR:-/tmp}/bkpm-${BKPM_ROLE:?set BKPM_ROLE to the service}.heartbeat"
        [ -f "$heartbeat" ] && [ $(( $(date +%s) - $(stat -c %Y "$heartbeat") )) -lt 30 ] ;;
    *) exec "$role" "$@" ;;
esac
