# Sourced by .ci/run: a throwaway PostgreSQL server for the tests marked `postgres`.
# It lives in a fresh temp dir and listens only on a unix socket there, so no port can collide
# and neither a second run nor a server left by a killed one gets in the way; it is stopped and
# deleted when the sourcing shell exits. Exports AIC_TEST_POSTGRES_URL for the tests.

pg_bin=$(dirname "$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -n 1)")
pg_dir=$(mktemp -d /tmp/aic-ci-postgres.XXXXXX)
chown postgres: "$pg_dir"

as_postgres() { (cd "$pg_dir" && runuser -u postgres -- "$@"); }
stop_postgres() {
  as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_postgres EXIT

as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --no-locale \
  --no-sync >/dev/null
# Durability buys nothing for a database deleted at the end of the run.
as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories='$pg_dir' -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
  || { cat "$pg_dir/server.log"; exit 1; }
as_postgres "$pg_bin/createdb" -h "$pg_dir" -U postgres aic_test
export AIC_TEST_POSTGRES_URL="postgresql+psycopg://postgres@/aic_test?host=$pg_dir"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') for the tests: $AIC_TEST_POSTGRES_URL"
