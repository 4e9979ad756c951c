#!/bin/sh
# Initialise the cluster in $PGDATA on first start, then run the server in the foreground.
#   POSTGRES_USER      superuser created by initdb (default postgres)
#   POSTGRES_PASSWORD  its password; required unless POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_DB        database created for it (default: the user's name)
# Extra arguments are passed to `postgres` (e.g. -c listen_addresses=127.0.0.1 -p 15432).
set -eu

user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
: "${PGDATA:?PGDATA must be set}"

valid_name() {
    case "$1" in
        "" | [0-9]* | *[!A-Za-z0-9_]*) return 1 ;;
        *) return 0 ;;
    esac
}
for name in "$user" "$db"; do
    if ! valid_name "$name"; then
        echo "error: '$name' is not a plain SQL name (letters, digits, _)" >&2
        exit 64
    fi
done

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ "$auth" != trust ] && [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "error: set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
        exit 64
    fi
    echo "initialising a PostgreSQL cluster in $PGDATA for $user"
    mkdir -p "$PGDATA"
    chmod 0700 "$PGDATA"
    pwfile="$(mktemp)"
    printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
    initdb --pgdata="$PGDATA" --username="$user" --pwfile="$pwfile" \
        --auth-local=trust --auth-host="$auth" --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
    if [ "$db" != postgres ]; then
        echo "CREATE DATABASE \"$db\" OWNER \"$user\";" |
            postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
    echo "cluster initialised; database $db owned by $user"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
