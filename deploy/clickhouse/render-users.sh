#!/bin/sh
# Renders the users template (users.d/evcrm.xml) with the SHA-256 hashes of passwords taken from
# the environment, as README.md describes with envsubst, but with only sha256sum and sed, which
# the official clickhouse/clickhouse-server image has (it has no envsubst).
#
#   CLICKHOUSE_DEFAULT_PASSWORD=… EVCRM_PROJECTOR_PASSWORD=… EVCRM_ANALYST_PASSWORD=… \
#       render-users.sh users.d/evcrm.xml /etc/clickhouse-server/users.d/evcrm.xml
#
# A missing or empty password stops it: the server must never start with a user it cannot check.
set -eu
template=$1
out=$2
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
default=$(sha "${CLICKHOUSE_DEFAULT_PASSWORD:?set CLICKHOUSE_DEFAULT_PASSWORD}")
projector=$(sha "${EVCRM_PROJECTOR_PASSWORD:?set EVCRM_PROJECTOR_PASSWORD}")
analyst=$(sha "${EVCRM_ANALYST_PASSWORD:?set EVCRM_ANALYST_PASSWORD}")
# Hex digests contain no character special to sed, so they go into the replacement as they are.
sed -e "s/\${CLICKHOUSE_DEFAULT_PASSWORD_SHA256}/$default/" \
    -e "s/\${EVCRM_PROJECTOR_PASSWORD_SHA256}/$projector/" \
    -e "s/\${EVCRM_ANALYST_PASSWORD_SHA256}/$analyst/" \
    "$template" > "$out.tmp"
if grep -q '\${' "$out.tmp"; then
    echo "render-users: placeholders left in $out:" >&2
    grep -n '\${' "$out.tmp" >&2
    rm -f "$out.tmp"
    exit 1
fi
mv "$out.tmp" "$out"
