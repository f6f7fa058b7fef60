#!/bin/sh
# MongoDB as a single-node replica set with authentication: the members of a replica set with
# auth prove themselves to each other with a key file, written here from MONGO_REPLICA_KEY so
# no secret lives in the compose file or the image. The healthcheck runs init.js, which initiates
# the set once and gives each service its own user.
set -eu
printf '%s' "$MONGO_REPLICA_KEY" > /tmp/replica.key
chmod 400 /tmp/replica.key
chown mongodb:mongodb /tmp/replica.key
exec docker-entrypoint.sh mongod --replSet rs0 --bind_ip_all --keyFile /tmp/replica.key
