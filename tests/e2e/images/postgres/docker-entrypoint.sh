#!/bin/bash
# The official postgres image's contract, rewritten small: *_FILE secrets, initdb on an empty
# PGDATA with POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_INITDB_ARGS, POSTGRES_DB created,
# password auth for every TCP client, then postgres in the foreground.
set -euo pipefail

file_env() {  # file_env VAR [DEFAULT]: VAR or the contents of the file VAR_FILE names
  local var=$1 file_var="${1}_FILE" def=${2:-}
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    echo "error: both $var and $file_var are set (but are exclusive)" >&2; exit 1
  fi
  local val=$def
  if [ -n "${!var:-}" ]; then val=${!var}; elif [ -n "${!file_var:-}" ]; then val=$(<"${!file_var}"); fi
  export "$var"="$val"
  unset "$file_var"
}

if [ "${1:-}" = postgres ]; then
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" || :
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "$POSTGRES_PASSWORD" ]; then
      echo "error: database is uninitialized and POSTGRES_PASSWORD is not specified" >&2; exit 1
    fi
    eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
    printf '\nhost all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
    export PGPASSWORD=$POSTGRES_PASSWORD
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
    if [ "$POSTGRES_DB" != postgres ]; then
      psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres --no-psqlrc \
        -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
    fi
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    unset PGPASSWORD
    echo "PostgreSQL init process complete; ready for start up."
  fi
  unset POSTGRES_PASSWORD
fi
exec "$@"
