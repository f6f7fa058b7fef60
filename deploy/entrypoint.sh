#!/bin/sh
# The roles of the one image, with the very commands `make run` and the tests start them with.
#   organisasi | kegiatan | bantuan | notifikasi | akun   a service
#   gateway                                              the HTTP gateway under gunicorn
#   import-wilayah FILE.csv                              load an official area list (one-off)
#   subscribe ARGS...                                    the public feed's subscriber / catch-up (one-off or bridge)
#   healthcheck                                          the check of the role in BKPM_ROLE (Docker HEALTHCHECK)
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
    *) exec "$role" "$@" ;;
esac
