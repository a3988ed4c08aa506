# shellcheck shell=bash
# Shared functions of script/backup and script/restore (and script/install's timer): which
# PostgreSQL, Redis and services they act on. Sourced after lib.sh, never run.
#
# Which servers: DATABASE_URL and REDIS_URL when set (an installed machine's
# /etc/maillon/maillon.env sets them), else the private servers of script/server under .local/.
# Which services: the ones recorded in MAILLON_RUN_DIR (default .local/run, script/server's),
# or the systemd units of script/install when MAILLON_SYSTEMD=1 (the installed scripts set it).

readonly OPS_LOCAL="$MAILLON_ROOT/.local"
OPS_RUN_DIR="${MAILLON_RUN_DIR:-$OPS_LOCAL/run}"
OPS_PREFIX="${MAILLON_STREAM_PREFIX:-maillon}"

# ops_database_url: DATABASE_URL, else the running .local/pg cluster's database `maillon`.
ops_database_url() {
  if [[ -n "${DATABASE_URL:-}" ]]; then echo "$DATABASE_URL"; return; fi
  local pid_file="$OPS_LOCAL/pg/postmaster.pid"
  [[ -f "$pid_file" ]] || die "no DATABASE_URL and no PostgreSQL of script/server running (.local/pg)"
  pg_url "$(sed -n 4p "$pid_file")" maillon
}

# ops_redis_url: REDIS_URL, else the .local/redis server of script/server.
ops_redis_url() {
  if [[ -n "${REDIS_URL:-}" ]]; then echo "$REDIS_URL"; return; fi
  local port
  port="$(sed -n 's/^port //p' "$OPS_LOCAL/redis/redis.conf" 2>/dev/null)"
  [[ -n "$port" ]] || die "no REDIS_URL and no Redis of script/server (.local/redis)"
  echo "redis://127.0.0.1:$port"
}

# ops_maintenance_url URL: the same server, database `postgres` (to drop and create ours).
ops_maintenance_url() {
  # shellcheck disable=SC2001
  sed 's|^\(postgres[a-z]*://[^/?]*\)/[^?]*|\1/postgres|' <<<"$1"
}

ops_rcli() { redis-cli -u "$OPS_REDIS_URL" --no-auth-warning "$@"; }

# ops_stream_keys: every stream under the prefix (event streams and their .dead twins).
ops_stream_keys() {
  local key
  ops_rcli --scan --pattern "$OPS_PREFIX:*" | sort | while read -r key; do
    [[ "$(ops_rcli TYPE "$key")" == stream ]] && echo "$key"
  done
  return 0
}

# ops_schema_versions URL: {"schema": highest applied migration, ...} of every service schema.
ops_schema_versions() {
  psql -X "$1" -Atc "SELECT table_schema FROM information_schema.tables
    WHERE table_name = 'schema_migrations' ORDER BY 1" | while read -r schema; do
    [[ -n "$schema" ]] || continue
    printf '%s\t%s\n' "$schema" \
      "$(psql -X "$1" -Atc "SELECT COALESCE(max(version), 0) FROM \"$schema\".schema_migrations")"
  done | jq -Rn '[inputs | split("\t") | {(.[0]): (.[1] | tonumber)}] | add // {}'
}

# ---------------------------------------------------------------------------------------------
# Services: stopped before a restore and started again afterwards, as they were.

ops_systemd() { [[ "${MAILLON_SYSTEMD:-0}" == 1 ]]; }

# ops_services_snapshot DIR: for each running service recorded in the run dir, its executable,
# its log file (its stdout) and its whole environment (port, URLs, settings), read from /proc, so
# that ops_services_start brings back exactly what ran, whoever started it (script/server, a
# test's stack).
ops_services_snapshot() {
  local out="$1" name pid exe log
  mkdir -p "$out"
  : >"$out/services"
  [[ -f "$OPS_RUN_DIR/services" ]] || return 0
  while read -r name; do
    pid="$(recorded_service_pid "$OPS_RUN_DIR" "$name")"
    pid_alive "$pid" || continue
    exe="$(readlink "/proc/$pid/exe")"
    exe="${exe% (deleted)}"  # rebuilt since it started: run the new file of the same path
    log="$(readlink "/proc/$pid/fd/1" || echo /dev/null)"
    tr '\0' '\n' <"/proc/$pid/environ" >"$out/$name.env"
    printf '%s\n%s\n' "$exe" "$log" >"$out/$name.how"
    echo "$name" >>"$out/services"
  done <"$OPS_RUN_DIR/services"
}

# Outside systemd, script/server's supervisor (supervise_services) would start the services again
# while they are meant to be stopped: it stands aside until ops_services_start has run.
ops_services_stop() {
  if ops_systemd; then
    systemctl stop maillon-services.target
  else
    mkdir -p "$OPS_RUN_DIR"
    touch "$OPS_RUN_DIR/supervisor.paused"
    stop_services "$OPS_RUN_DIR"
  fi
}

# ops_services_start DIR: starts what ops_services_snapshot recorded, in the same order (members
# first), each waited for; the gateway still routes to the same ports.
ops_services_start() {
  local snap="$1" name exe log port pid failed=0
  if ops_systemd; then
    systemctl start maillon-services.target
    local unit
    for unit in /etc/systemd/system/maillon-*.service; do
      port="$(sed -n 's/^Environment=PORT=//p' "$unit")"
      [[ -n "$port" ]] || continue  # PostgreSQL, Redis, the gateway, the back-up
      name="$(basename "$unit" .service)"
      wait_for "$name" "${MAILLON_READY_TIMEOUT:-90}" \
        curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" || failed=1
    done
    return "$failed"
  fi
  mkdir -p "$OPS_RUN_DIR"
  : >"$OPS_RUN_DIR/services"
  while read -r name; do
    { read -r exe; read -r log; } <"$snap/$name.how"
    port="$(sed -n 's/^PORT=//p' "$snap/$name.env")"
    mapfile -t env_lines <"$snap/$name.env"
    env -i "${env_lines[@]}" setsid "$exe" </dev/null >>"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$OPS_RUN_DIR/$name.pid"
    pid_start_time "$pid" >"$OPS_RUN_DIR/$name.started"
    echo "$name" >>"$OPS_RUN_DIR/services"
    if wait_ready "$name" "$port" "$log" "$pid"; then
      ok "$name ready again on 127.0.0.1:$port"
    else
      failed=1
    fi
  done <"$snap/services"
  rm -f "$OPS_RUN_DIR/supervisor.paused"
  return "$failed"
}
