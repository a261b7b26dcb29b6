#!/bin/sh
# Entrypoint of the ClickHouse container in docker-compose.yml: fills the users template with the
# hashes of the passwords from the environment, then hands over to the official image's
# entrypoint (/entrypoint.sh), which starts the server as the clickhouse user.
set -eu
/etc/evcrm/clickhouse/render-users.sh /etc/evcrm/clickhouse/users.d/evcrm.xml /etc/clickhouse-server/users.d/evcrm.xml
# The plain passwords are not needed any more; keep them out of the server's environment.
# (The health check reads CLICKHOUSE_DEFAULT_PASSWORD from the container's config, not from here.)
unset EVCRM_PROJECTOR_PASSWORD EVCRM_ANALYST_PASSWORD
exec /entrypoint.sh "$@"
