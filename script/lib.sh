# shellcheck shell=bash
# Shared shell functions of script/server, script/test and script/bench: the service list and
# ports, private PostgreSQL / Redis / nginx processes, and starting and stopping services.
# Sourced, never run; the caller has `set -euo pipefail` and sets nothing else beforehand.

MAILLON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly MAILLON_ROOT
readonly PG_BIN=/usr/lib/postgresql/15/bin

# Default ports of the known services, in start order. members comes first: the other services
# call SQL functions of its schema (session checks), so it must have migrated before they start.
readonly -a MAILLON_PORT_TABLE=(
  members:8081
  offers:8082
  requests:8083
  matching:8084
  exchange:8085
  ledger:8086
  depot:8087
  notify:8088
  media:8089
)
readonly MAILLON_EXTRA_PORT_BASE=8090  # services not in the table get the next free port from here

# The demo network's shared password, and the member script/server shows (made by script/seed).
export MAILLON_DEMO_PASSWORD="${MAILLON_DEMO_PASSWORD:-demo-maillon-2025}"
export MAILLON_DEMO_EMAIL="${MAILLON_DEMO_EMAIL:-camille.lefebvre@demo.maillon.local}"

# ---------------------------------------------------------------------------------------------
# Messages. Everything human-facing goes to stderr so stdout stays usable in $(...).

if [[ -t 2 ]]; then
  _c_bold=$'\e[1m' _c_red=$'\e[31m' _c_green=$'\e[32m' _c_yellow=$'\e[33m' _c_off=$'\e[0m'
else
  _c_bold='' _c_red='' _c_green='' _c_yellow='' _c_off=''
fi

say() { printf '%s==>%s %s\n' "$_c_bold" "$_c_off" "$*" >&2; }
ok() { printf '%s  ok%s %s\n' "$_c_green" "$_c_off" "$*" >&2; }
warn() { printf '%swarn%s %s\n' "$_c_yellow" "$_c_off" "$*" >&2; }
die() {
  printf '%serror%s %s\n' "$_c_red" "$_c_off" "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Services: discovered from services/*/main.cpp, so a new service needs no edit here.

# Prints the services that have a main.cpp, one per line, in start order: the port table's
# order first (members leads), then the others alphabetically.
maillon_services() {
  local entry name main
  local -A present=()
  for main in "$MAILLON_ROOT"/services/*/main.cpp; do
    [[ -e "$main" ]] || continue
    name="$(basename "$(dirname "$main")")"
    [[ "$name" == common ]] || present[$name]=1
  done
  for entry in "${MAILLON_PORT_TABLE[@]}"; do
    name="${entry%%:*}"
    if [[ -n "${present[$name]:-}" ]]; then
      echo "$name"
      unset "present[$name]"
    fi
  done
  if ((${#present[@]})); then printf '%s\n' "${!present[@]}" | sort; fi
}

# The gateway routes every known service, also those not built yet (they answer 503).
maillon_known_services() {
  local entry
  { for entry in "${MAILLON_PORT_TABLE[@]}"; do echo "${entry%%:*}"; done; maillon_services; } |
    awk '!seen[$0]++'
}

# Default port of a service: the table's, else the next port from MAILLON_EXTRA_PORT_BASE that
# no other service uses (by its rank among the extra services, so it is stable between runs).
maillon_default_port() {
  local service="$1" entry rank=0 name
  for entry in "${MAILLON_PORT_TABLE[@]}"; do
    [[ "${entry%%:*}" == "$service" ]] && { echo "${entry##*:}"; return; }
  done
  while read -r name; do
    maillon_table_has "$name" && continue
    [[ "$name" == "$service" ]] && { echo $((MAILLON_EXTRA_PORT_BASE + rank)); return; }
    rank=$((rank + 1))
  done < <(maillon_services)
  echo $((MAILLON_EXTRA_PORT_BASE + rank))
}

maillon_table_has() {
  local entry
  for entry in "${MAILLON_PORT_TABLE[@]}"; do [[ "${entry%%:*}" == "$1" ]] && return 0; done
  return 1
}

maillon_service_bin() { echo "${MAILLON_BUILD_DIR:-$MAILLON_ROOT/build}/services/$1/maillon-$1"; }

# instance_port_offset NAME: how far the ports of installation NAME (script/server --instance,
# a second installation on this machine for federation) sit from the default installation's: 0
# for the default (no NAME), else MAILLON_INSTANCE_PORT_OFFSET, else 100 times a number from 1 to
# 40 derived from the name, so that an instance keeps its ports (its URL) from run to run.
instance_port_offset() {
  local name="${1:-}" sum
  [[ -n "$name" ]] || { echo 0; return; }
  if [[ -n "${MAILLON_INSTANCE_PORT_OFFSET:-}" ]]; then
    [[ "$MAILLON_INSTANCE_PORT_OFFSET" =~ ^[1-9][0-9]{0,3}$ ]] ||
      die "MAILLON_INSTANCE_PORT_OFFSET: a number from 1 to 9999"
    echo "$MAILLON_INSTANCE_PORT_OFFSET"
    return
  fi
  sum="$(printf '%s' "$name" | cksum)"
  echo $((100 * (1 + ${sum%% *} % 40)))
}

# ---------------------------------------------------------------------------------------------
# Build.

# maillon_build [DIR] [TYPE] [TARGET...]: configures (quick when nothing changed, and it undoes
# a by-hand MAILLON_DOMAIN_ONLY or MAILLON_FUZZ in this dir, which would leave the services
# out), then builds the TARGETs, or everything (services, tests, benchmarks) without any.
# maillon-runtime is what script/server runs: the service executables. ccache is picked up by
# CMakeLists.txt when installed.
maillon_build() {
  local dir="${1:-$MAILLON_ROOT/build}" type="${2:-RelWithDebInfo}" target
  local -a targets=()
  for target in "${@:3}"; do targets+=(--target "$target"); done
  cmake -S "$MAILLON_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" \
    -DMAILLON_DOMAIN_ONLY=OFF -DMAILLON_FUZZ=OFF -DMAILLON_TESTS=ON >/dev/null || return 1
  cmake --build "$dir" -j "${MAILLON_JOBS:-$(nproc)}" "${targets[@]}"
}

# build_progress LOG: copies a build's output (stdin) to LOG and shows how far it got on
# stderr, from ninja's [done/total] lines: one line rewritten in place on a terminal, else a
# line each time another tenth is done. The full output (errors included) stays in LOG.
build_progress() {
  local log="$1" line finished total percent tenth=-1 what width
  width="$(tput cols 2>/dev/null || echo 80)"
  : >"$log"
  while IFS= read -r line; do
    printf '%s\n' "$line" >>"$log"
    [[ "$line" =~ ^\[([0-9]+)/([0-9]+)\]\ (.*)$ ]] || continue
    finished="${BASH_REMATCH[1]}" total="${BASH_REMATCH[2]}" what="${BASH_REMATCH[3]}"
    ((total > 0)) || continue
    percent=$((finished * 100 / total))
    if [[ -t 2 ]]; then
      what="${what##* }"  # the file being made
      what="${what#"$MAILLON_ROOT"/}"
      printf -v line '  [%d/%d] %3d%% %s' "$finished" "$total" "$percent" "$what"
      printf '\r\e[K%s' "${line:0:width-1}" >&2
    elif ((percent / 10 > tenth)); then
      tenth=$((percent / 10))
      printf '  [%d/%d] %d%%\n' "$finished" "$total" "$percent" >&2
    fi
  done
  if [[ -t 2 ]]; then printf '\r\e[K' >&2; fi
  return 0
}

# npm_ci DIR: `npm ci` in DIR (exactly what its lockfile says), unless its node_modules was
# installed from this very lockfile: its hash is kept in node_modules/.maillon-lock-sha256. A warm
# script/test reinstalled three trees every run, about 12 s of CPU for nothing.
npm_ci() {
  local dir="$1" sum stamp="$1/node_modules/.maillon-lock-sha256"
  sum="$(sha256sum <"$dir/package-lock.json" | cut -c1-64)" || return 1
  [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]] && return 0
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || return 1
  echo "$sum" >"$stamp"
}

# web_build: the web UI into web/dist (served by the gateway at /), only when its sources or
# its lockfile changed since the last build. npm ci installs exactly what the lockfile says.
web_build() {
  local web="$MAILLON_ROOT/web"
  [[ -f "$web/package.json" ]] || return 0
  local quiet=(--no-audit --no-fund --loglevel=error)
  if [[ ! -d "$web/node_modules" || "$web/package-lock.json" -nt "$web/node_modules" ]]; then
    (cd "$web" && npm ci "${quiet[@]}" && touch node_modules) || return 1
  fi
  if [[ -f "$web/dist/index.html" ]] &&
    [[ -z "$(find "$web/src" "$web/public" "$web/scripts" "$web/index.html" "$web/package.json" \
      "$web/package-lock.json" "$web/vite.config.ts" -newer "$web/dist/index.html" -print -quit \
      2>/dev/null)" ]]; then
    return 0
  fi
  (cd "$web" && npm run build --silent)
}

# ---------------------------------------------------------------------------------------------
# Ports.

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port VAR: sets VAR to a port nothing listens on. Ports handed out earlier in this shell
# are remembered, so a port chosen but not bound yet (the gateway's, bound last) is never
# handed out twice. It sets a variable rather than printing: $(...) would forget the memory.
# Ports come from below the kernel's ephemeral range: outgoing connections take their local
# port from that range, and a listener cannot bind a port that a client socket, or its
# TIME_WAIT left-over (a benchmark leaves thousands), still holds, though nothing listens there.
declare -ga _maillon_ports_given=()
free_port() {
  local -n _fp_out="$1"  # internal names start with _fp_ so they cannot shadow the caller's VAR
  local _fp_port _fp_given _fp_tries=0 _fp_span=12768 _fp_ephemeral_low=32768 _fp_rest
  read -r _fp_ephemeral_low _fp_rest </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  ((_fp_ephemeral_low - 20000 >= 1000)) && _fp_span=$((_fp_ephemeral_low - 20000))
  while ((_fp_tries++ < 200)); do
    _fp_port=$((20000 + RANDOM % _fp_span))
    for _fp_given in "${_maillon_ports_given[@]}"; do [[ "$_fp_given" == "$_fp_port" ]] && continue 2; done
    if ! port_in_use "$_fp_port"; then
      _maillon_ports_given+=("$_fp_port")
      _fp_out="$_fp_port"
      return
    fi
  done
  die "no free port found"
}

# wait_for DESCRIPTION SECONDS COMMAND...: retries COMMAND every 0.2 s until it succeeds.
wait_for() {
  local what="$1" seconds="$2"
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || { warn "$what did not answer within ${seconds}s"; return 1; }
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL 15: a private cluster in a directory of ours.
# It refuses to run as root, so when we are root every pg command runs as the `postgres` user,
# who must own the data directory and be able to reach it (hence the chmod of its parents).

as_pg() {
  if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_running() { [[ -f "$1/postmaster.pid" ]] && as_pg "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

# pg_start DATA_DIR PORT [test]: initialises the cluster when new, then starts it on
# 127.0.0.1:PORT with its unix socket inside DATA_DIR (no clash with a system server's
# /var/run/postgresql). "test" trades durability for speed: the data is thrown away anyway.
pg_start() {
  local data="$1" port="$2" mode="${3:-dev}"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    mkdir -p "$data"
    ((EUID == 0)) && chown postgres: "$data"
    chmod 700 "$data"
    # trust on loopback only: the server listens on 127.0.0.1 and its socket sits in a
    # directory only the postgres user can enter.
    as_pg "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=trust >"$data.initdb.log" 2>&1 ||
      { cat "$data.initdb.log" >&2; die "initdb failed"; }
    as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF
# Maillon: private server on loopback only.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$data'
max_connections = 300
log_min_messages = warning
EOF
    if [[ "$mode" == test ]]; then
      as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF
fsync = off
synchronous_commit = off
full_page_writes = off
# script/test runs several stacks at once (the e2e stack, two replicas of each service, the
# upgrade's two releases, the chaos campaign's), each process with its own pool.
max_connections = 800
EOF
    fi
  fi
  # The port is given on the command line so a dev cluster can move when its port is taken.
  # setsid: Ctrl-C in the terminal must not reach PostgreSQL; script/server stops it in order.
  as_pg setsid -w "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port" -w -t 60 start \
    >/dev/null || { tail -n 20 "$data/server.log" >&2; die "PostgreSQL did not start"; }
}

pg_stop() {
  local data="$1"
  pg_running "$data" || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

pg_psql() {
  local port="$1"
  shift
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}

# pg_ensure_db PORT DATABASE: role `maillon` and DATABASE owned by it, when missing.
# The role is a superuser: services create extensions (pg_trgm, unaccent, postgis) in their
# migrations and integration tests create and drop schemas. Acceptable for a private
# dev/test server on loopback; production gives each service its own least-privilege role.
pg_ensure_db() {
  local port="$1" db="$2"
  # Explicit returns: callers may run this where `set -e` is ignored (`step ... || ...`).
  if ! pg_psql "$port" -d postgres -tA \
    -c "SELECT 1 FROM pg_roles WHERE rolname = 'maillon'" | grep -q 1; then
    pg_psql "$port" -d postgres -c "CREATE ROLE maillon LOGIN SUPERUSER" || return 1
  fi
  if ! pg_psql "$port" -d postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'" |
    grep -q 1; then
    pg_psql "$port" -d postgres -c "CREATE DATABASE $db OWNER maillon" || return 1
  fi
}

pg_url() { echo "postgresql://maillon@127.0.0.1:$1/$2"; }

# ---------------------------------------------------------------------------------------------
# Redis 7: one server from a generated config. "dev" keeps an append-only file (the outbox can
# rebuild streams, but consumers' pending entries are nicer kept); "test" persists nothing.

redis_start() {
  local dir="$1" port="$2" mode="${3:-dev}"
  mkdir -p "$dir"
  local persistence='appendonly yes'
  [[ "$mode" == test ]] && persistence='appendonly no'
  cat >"$dir/redis.conf" <<EOF
# Generated by script/lib.sh: private Redis on loopback.
bind 127.0.0.1
port $port
protected-mode yes
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
dir $dir
save ""
$persistence
EOF
  redis-server "$dir/redis.conf" || die "Redis did not start (see $dir/redis.log)"
  wait_for "Redis" 20 redis-cli -h 127.0.0.1 -p "$port" ping || die "Redis did not start"
}

redis_running() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }

redis_stop() {
  local dir="$1" port="$2" mode="${3:-dev}" pid=''
  [[ -f "$dir/redis.pid" ]] && pid="$(cat "$dir/redis.pid")"
  if redis_running "$port"; then
    if [[ "$mode" == test ]]; then
      redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
    else
      redis-cli -h 127.0.0.1 -p "$port" shutdown >/dev/null 2>&1 || true
    fi
  fi
  [[ -n "$pid" ]] && wait_pid_gone "$pid" 10
  return 0
}

# ---------------------------------------------------------------------------------------------
# The SMTP catcher: Debian's python3-aiosmtpd on loopback, storing every message it receives as
# a file of the Maildir MAILDIR (MAILDIR/new/), so that development and tests send real mail over
# real SMTP and read what arrived. Never on anything but 127.0.0.1.

# smtp_start MAILDIR PORT LOG PID_FILE: starts the catcher, waits until it listens.
smtp_start() {
  local maildir="$1" port="$2" log="$3" pid_file="$4"
  # The Mailbox handler only makes new/ cur/ tmp/ when the directory itself is missing.
  mkdir -p "$maildir/new" "$maildir/cur" "$maildir/tmp" "$(dirname "$log")" "$(dirname "$pid_file")"
  # Debian's interpreter, which has the python3-aiosmtpd module (not a pyenv one first in PATH).
  setsid /usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox \
    "$maildir" </dev/null >>"$log" 2>&1 &
  echo $! >"$pid_file"
  wait_for "SMTP server" 20 port_in_use "$port" || die "the SMTP catcher did not start (see $log)"
}

# smtp_stop PID_FILE
smtp_stop() {
  local pid_file="$1" pid=''
  [[ -f "$pid_file" ]] && pid="$(cat "$pid_file")"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
}

# ---------------------------------------------------------------------------------------------
# Processes.

# pid_alive PID: the process exists and has not exited. A process that exited but was not yet
# reaped (a zombie) is gone: an orphan's parent is pid 1, which in some VMs and containers reaps
# only every second or two, and each stop then waited for that.
pid_alive() {
  [[ -n "$1" ]] && kill -0 "$1" 2>/dev/null || return 1
  local stat=''
  read -r stat <"/proc/$1/stat" 2>/dev/null || return 0  # no /proc: kill -0 is all we know
  stat="${stat##*) }"  # the command name may hold spaces; the state follows it
  [[ "${stat:0:1}" != Z ]]
}

# When process PID started (clock ticks since boot, field 22 of /proc/PID/stat); empty when gone.
pid_start_time() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  stat="${stat##*) }"  # the command name may hold spaces; the fields after it do not
  read -r -a stat <<<"$stat"
  echo "${stat[19]}"
}

wait_pid_gone() {
  local pid="$1" seconds="$2" deadline=$((SECONDS + $2))
  while pid_alive "$pid"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# stop_pid PID NAME: SIGTERM (the services drain and ack), then SIGKILL after 20 s.
stop_pid() {
  local pid="$1" name="$2"
  pid_alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  if ! wait_pid_gone "$pid" 20; then
    warn "$name did not stop within 20s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
    wait_pid_gone "$pid" 5 || true
  fi
}

# start_service NAME PORT LOG_FILE RUN_DIR: starts the service in its own session (so a Ctrl-C
# in the terminal reaches only us, and we stop services in order) and records its pid in
# RUN_DIR/NAME.pid. The caller exports DATABASE_URL, REDIS_URL and the MAILLON_* settings.
start_service() {
  local name="$1" port="$2" log="$3" run_dir="$4" instance="${5:-$1}" bin
  bin="$(maillon_service_bin "$name")"
  [[ -x "$bin" ]] || die "$bin is missing: did the build succeed?"
  mkdir -p "$(dirname "$log")" "$run_dir"
  PORT="$port" setsid "$bin" </dev/null >>"$log" 2>&1 &
  echo $! >"$run_dir/$instance.pid"
  # pids wrap quickly on a busy machine (pid_max may be 32768): the start time tells a later
  # stop_services whether the pid is still our service or a process that reused it.
  pid_start_time $! >"$run_dir/$instance.started"
}

# wait_ready NAME PORT LOG_FILE PID: /readyz answers 200 once migrations ran and PostgreSQL and
# Redis answer. Fails early when the process died (its log says why).
wait_ready() {
  local name="$1" port="$2" log="$3" pid="$4" deadline=$((SECONDS + ${MAILLON_READY_TIMEOUT:-90}))
  until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/readyz" 2>/dev/null; do
    if ! pid_alive "$pid"; then
      warn "$name exited during start-up; last lines of $log:"
      tail -n 15 "$log" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      warn "$name not ready on port $port; last lines of $log:"
      tail -n 15 "$log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# recorded_service_pid RUN_DIR NAME: the pid start_service recorded, or nothing when that
# process is gone and the pid now belongs to another one (killing it would kill a stranger,
# e.g. another run's service starting up, silently, before it logs anything).
recorded_service_pid() {
  local run_dir="$1" name="$2" pid started
  pid="$(cat "$run_dir/$name.pid" 2>/dev/null || true)"
  [[ -n "$pid" ]] || return 0
  # No .started file: recorded by an older lib.sh, so the pid is all there is to go by.
  if [[ -f "$run_dir/$name.started" ]]; then
    started="$(cat "$run_dir/$name.started")"
    [[ -n "$started" && "$(pid_start_time "$pid")" == "$started" ]] || return 0
  fi
  echo "$pid"
}

# stop_services RUN_DIR: stops the recorded services, the last started first, so members
# (which the others call) goes last.
stop_services() {
  local run_dir="$1" name pid
  local -a names=() stoppers=()
  [[ -f "$run_dir/services" ]] || return 0
  mapfile -t names <"$run_dir/services"
  local i
  # SIGTERM to all at once, then wait: they drain in parallel. members last.
  for ((i = ${#names[@]} - 1; i >= 0; i--)); do
    name="${names[$i]}"
    [[ "$name" == members ]] && continue
    pid="$(recorded_service_pid "$run_dir" "$name")"
    stop_pid "$pid" "$name" &
    stoppers+=($!)
  done
  # Only the stoppers: a bare `wait` would also wait for the services themselves.
  ((${#stoppers[@]} == 0)) || wait "${stoppers[@]}" || true
  pid="$(recorded_service_pid "$run_dir" members)"
  stop_pid "$pid" members
  for name in "${names[@]}"; do rm -f "$run_dir/$name.pid" "$run_dir/$name.started"; done
  rm -f "$run_dir/services"
}

# ---------------------------------------------------------------------------------------------
# Gateway: nginx, from deploy/nginx.conf.template, routing only to the services that run.

# gateway_tile_origin CONFIG_JSON: the origin of the map tiles the web UI loads (its
# config.json's tiles.url), which the Content-Security-Policy must allow as images:
# https://{s}.tile.example.org/{z}/{x}/{y}.png gives https://*.tile.example.org. Nothing when
# the file names no tiles, or an origin the CSP could not say (then the map says it failed).
gateway_tile_origin() {
  local file="$1" origin
  [[ -f "$file" ]] || return 0
  origin="$(tr -d '\n' <"$file" |
    sed -n 's|.*"url"[[:space:]]*:[[:space:]]*"\(https\{0,1\}://[^/"]*\).*|\1|p')"
  origin="${origin//\{s\}/*}"
  if [[ -n "$origin" && ! "$origin" =~ ^https?://[A-Za-z0-9.*-]+(:[0-9]+)?$ ]]; then
    warn "map tiles at $origin: not an origin the CSP can allow, the map will not load"
    return 0
  fi
  printf '%s' "$origin"
}

# The directory the media service writes photos to and the gateway serves them from: the
# caller's MAILLON_MEDIA_DIR, else .local/media (script/server's); made here so nginx may start.
maillon_media_dir() {
  local dir="${MAILLON_MEDIA_DIR:-$MAILLON_ROOT/.local/media}"
  mkdir -p "$dir"
  printf '%s' "$dir"
}

# gateway_write_conf PREFIX LISTEN_PORT SERVICE:PORT...: writes PREFIX/nginx.conf and one
# PREFIX/routes/<service>.conf per known service: a proxy_pass when it runs, else a 503.
# Also PREFIX/security_headers.conf (CSP and the like, deploy/nginx-security-headers.conf) and
# the proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: this machine's 127.0.0.1
# and ::1 (a TLS terminator in front) and MAILLON_TRUSTED_PROXIES (addresses or CIDR ranges, comma-separated).
gateway_write_conf() {
  local prefix="$1" listen_port="$2"
  shift 2
  local -A ports=()
  local pair name port web_root user_line=''
  # SERVICE:PORT may repeat: the replicas of one service.
  for pair in "$@"; do ports[${pair%%:*}]+="${pair##*:} "; done
  mkdir -p "$prefix/routes" "$prefix/logs" "$prefix/temp"
  # One upstream per running service. A replica that refuses connections (killed, restarting)
  # is skipped and the request goes to another: nginx retries only requests it could not send.
  for name in "${!ports[@]}"; do
    printf 'upstream maillon_%s {\n' "$name"
    for port in ${ports[$name]}; do
      printf '  server 127.0.0.1:%s max_fails=1 fail_timeout=2s;\n' "$port"
    done
    printf '  keepalive 32;\n'
    printf '}\n'
  done >"$prefix/upstreams.conf"
  web_root="$MAILLON_ROOT/web"
  [[ -d "$MAILLON_ROOT/web/dist" ]] && web_root="$MAILLON_ROOT/web/dist"
  # As root the master must name a worker user. root, because the workers read the repo and
  # write temp files under directories that `nobody` may not be allowed to enter (a mktemp dir
  # is 0700); the gateway only listens on loopback.
  ((EUID == 0)) && user_line='user root;'
  while read -r name; do
    if [[ -n "${ports[$name]:-}" ]]; then
      printf 'proxy_pass http://maillon_%s;\n' "$name"
    else
      printf '%s\n' 'types { }' 'default_type application/problem+json;' \
        "return 503 '{\"type\":\"/problems/unavailable\",\"code\":\"unavailable\",\"title\":\"Service indisponible\",\"status\":503,\"detail\":\"Le service $name ne tourne pas derrière cette passerelle.\"}';"
    fi >"$prefix/routes/$name.conf"
  done < <(maillon_known_services)
  local img_src="'self' data:" tiles range
  tiles="$(gateway_tile_origin "$web_root/config.json")"
  [[ -n "$tiles" ]] && img_src+=" $tiles"
  sed -e "s|@IMG_SRC@|$img_src|" "$MAILLON_ROOT/deploy/nginx-security-headers.conf" \
    >"$prefix/security_headers.conf"
  : >"$prefix/trusted_proxies.conf"
  : >"$prefix/trusted_proxies.geo"
  # Loopback's own address only, not 127.0.0.0/8: any process here may connect from any address of
  # that range and would name its own "client address" past the limits per address.
  for range in 127.0.0.1/32 ::1/128 ${MAILLON_TRUSTED_PROXIES:+${MAILLON_TRUSTED_PROXIES//,/ }}; do
    [[ "$range" =~ ^[0-9A-Fa-f.:]+(/[0-9]+)?$ ]] || die "MAILLON_TRUSTED_PROXIES: '$range' is not an address or a CIDR range"
    printf 'set_real_ip_from %s;\n' "$range" >>"$prefix/trusted_proxies.conf"
    printf '%s 1;\n' "$range" >>"$prefix/trusted_proxies.geo"
  done
  sed -e "s|@USER_LINE@|$user_line|" -e "s|@MEDIA_SOURCE@|$(gateway_media_source)|" \
    -e "s|@PREFIX@|$prefix|g" -e "s|@LISTEN_PORT@|$listen_port|" -e "s|@WEB_ROOT@|$web_root|" \
    "$MAILLON_ROOT/deploy/nginx.conf.template" >"$prefix/nginx.conf"
}

# Where the gateway's /media/ location takes a photo from (one line of nginx directives): the
# media service, which reads the bucket, when photos live in an S3-compatible store
# (MAILLON_MEDIA_S3_URL, as the media service itself reads it); else straight from the directory
# the media service writes, with the year-long cache that the media service would answer.
gateway_media_source() {
  if [[ -n "${MAILLON_MEDIA_S3_URL:-}" ]]; then
    printf '%s' 'include @PREFIX@/routes/media.conf;'
  else
    printf '%s' "add_header Cache-Control \"public, max-age=31536000, immutable\" always; alias $(maillon_media_dir)/\$1;"
  fi
}

gateway_start() {
  local prefix="$1" port="$2"
  nginx -t -q -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" ||
    die "the generated nginx configuration is invalid: $prefix/nginx.conf"
  nginx -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" ||
    die "nginx did not start (see $prefix/logs/error.log)"
  wait_for "nginx" 10 curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" ||
    die "nginx did not answer (see $prefix/logs/error.log)"
}

gateway_stop() {
  local prefix="$1" pid=''
  [[ -f "$prefix/logs/nginx.pid" ]] && pid="$(cat "$prefix/logs/nginx.pid")"
  pid_alive "$pid" || return 0
  kill -QUIT "$pid" 2>/dev/null || true
  wait_pid_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# The whole stack (services + gateway) against given servers; used by test and bench.

# stack_start RUN_DIR LOG_DIR GATEWAY_PREFIX GATEWAY_PORT: starts every service on a free port
# (members first, each waited for), then the gateway. The caller exports DATABASE_URL,
# REDIS_URL and MAILLON_*. Returns non-zero when a service did not become ready.
stack_start() {
  local run_dir="$1" log_dir="$2" prefix="$3" gw_port="$4" name port failed=0 replica instance
  local replicas="${MAILLON_REPLICAS:-1}"
  local -a routes=()
  mkdir -p "$run_dir" "$log_dir"
  # A stack's photos live beside its run directory unless the caller chose where.
  export MAILLON_MEDIA_DIR="${MAILLON_MEDIA_DIR:-$(dirname "$run_dir")/media}"
  : >"$run_dir/services"
  # Every instance's port is chosen first, so that members (started first) is told where each
  # service's /metrics is: its admin health page reads them (MAILLON_SERVICE_URLS).
  local -A instance_ports=()
  local service_urls=''
  while read -r name; do
    for ((replica = 1; replica <= replicas; replica++)); do
      instance="$name"
      ((replica == 1)) || instance="$name.$replica"
      free_port port
      instance_ports[$instance]="$port"
      service_urls+="${service_urls:+,}$name=http://127.0.0.1:$port"
    done
  done < <(maillon_services)
  export MAILLON_SERVICE_URLS="$service_urls"
  while read -r name; do
    # Replica 1 is <name>, the others <name>.<n>: each has its port, pid and log; the gateway
    # balances over all of them.
    for ((replica = 1; replica <= replicas; replica++)); do
      instance="$name"
      ((replica == 1)) || instance="$name.$replica"
      port="${instance_ports[$instance]}"
      start_service "$name" "$port" "$log_dir/$instance.log" "$run_dir" "$instance"
      echo "$instance" >>"$run_dir/services"
      echo "$port" >"$run_dir/$instance.port"
      if wait_ready "$instance" "$port" "$log_dir/$instance.log" "$(cat "$run_dir/$instance.pid")"
      then
        ok "$instance ready on 127.0.0.1:$port"
        routes+=("$name:$port")
      else
        failed=1
      fi
    done
  done < <(maillon_services)
  gateway_write_conf "$prefix" "$gw_port" "${routes[@]}"
  gateway_start "$prefix" "$gw_port"
  ok "gateway on http://127.0.0.1:$gw_port"
  return "$failed"
}

# ---------------------------------------------------------------------------------------------
# Throwaway servers for script/test and script/bench: everything lives in one temp directory
# that the caller removes (throwaway_stop) on any exit.

# throwaway_servers_start DIR: PostgreSQL and Redis on free ports; databases `maillon` (for
# integration tests, which create and drop schemas) and `maillon_e2e` (for the stack). Exports
# MAILLON_TEST_DATABASE_URL and MAILLON_TEST_REDIS_URL.
throwaway_servers_start() {
  local dir="$1"
  chmod 755 "$dir"  # mktemp makes it 0700; the postgres user must reach its data inside
  free_port THROWAWAY_PG_PORT
  pg_start "$dir/pg" "$THROWAWAY_PG_PORT" test
  pg_ensure_db "$THROWAWAY_PG_PORT" maillon || return 1
  pg_ensure_db "$THROWAWAY_PG_PORT" maillon_e2e || return 1
  free_port THROWAWAY_REDIS_PORT
  redis_start "$dir/redis" "$THROWAWAY_REDIS_PORT" test
  # One SMTP catcher for the run: the services send to it, the tests read its Maildir (each
  # test finds its mails by their recipients, so every stack of the run may share it).
  free_port THROWAWAY_SMTP_PORT
  smtp_start "$dir/mail" "$THROWAWAY_SMTP_PORT" "$dir/smtp.log" "$dir/smtp.pid"
  export MAILLON_SMTP_URL="smtp://127.0.0.1:$THROWAWAY_SMTP_PORT" MAILLON_MAIL_DIR="$dir/mail"
  export MAILLON_TEST_DATABASE_URL MAILLON_TEST_REDIS_URL
  MAILLON_TEST_DATABASE_URL="$(pg_url "$THROWAWAY_PG_PORT" maillon)"
  MAILLON_TEST_REDIS_URL="redis://127.0.0.1:$THROWAWAY_REDIS_PORT"
}

# The test stacks count failed logins in windows of ten minutes, not one: the e2e flood test's
# hundred wrong passwords (each one hashed) can take more than a minute on a loaded CI runner, and
# the limit must then still be met. Few other tests fail a login, each from an address of its own.
MAILLON_TEST_LOGIN_WINDOW_S="${MAILLON_TEST_LOGIN_WINDOW_S:-600}"

# The test stacks (script/test's, its replicas') run the services' periodic jobs every 5 s, not
# at their production pace (a minute, half of one): an end-to-end test that waits for a job's round
# (a depot loan's reminder, a hold's queue moving on) then waits seconds. The jobs find what is
# due by the time they run, so a round sooner changes no outcome, only when it is seen.
export_test_job_pace() {
  export MAILLON_DEPOT_JOB_INTERVAL_MS=5000 MAILLON_EXCHANGE_EXPIRY_INTERVAL_MS=5000 \
    MAILLON_NOTIFY_JOB_INTERVAL_MS=5000 MAILLON_EXPIRY_INTERVAL_MS=5000
}

# throwaway_stack_start DIR: every service on a free port + the gateway on a free port, on the
# database maillon_e2e and stream prefix maillon_e2e, so integration tests that reset their
# own schemas and streams never disturb it. Exports MAILLON_TEST_GATEWAY_URL, its access log
# (MAILLON_TEST_GATEWAY_LOG) and the admin login the e2e tests use. Returns non-zero when a service did not become ready.
throwaway_stack_start() {
  local dir="$1" gw_port rc=0
  free_port gw_port
  export MAILLON_TEST_GATEWAY_URL="http://127.0.0.1:$gw_port"
  export MAILLON_TEST_GATEWAY_LOG="$dir/nginx/logs/access.log"  # what its tests may read back
  export MAILLON_TEST_ADMIN_EMAIL="${MAILLON_TEST_ADMIN_EMAIL:-admin@maillon.test}"
  export MAILLON_TEST_ADMIN_PASSWORD="${MAILLON_TEST_ADMIN_PASSWORD:-maillon-admin-test}"
  # A subshell, so the services' settings do not leak into the tests' environment.
  (
    export DATABASE_URL REDIS_URL="$MAILLON_TEST_REDIS_URL" MAILLON_STREAM_PREFIX=maillon_e2e
    DATABASE_URL="$(pg_url "$THROWAWAY_PG_PORT" maillon_e2e)"
    export MAILLON_SCHEMAS_DIR="$MAILLON_ROOT/schemas"
    export MAILLON_ADMIN_EMAIL="$MAILLON_TEST_ADMIN_EMAIL"
    export MAILLON_ADMIN_PASSWORD="$MAILLON_TEST_ADMIN_PASSWORD"
    export MAILLON_LOGIN_WINDOW_S="$MAILLON_TEST_LOGIN_WINDOW_S"
    export_test_job_pace
    stack_start "$dir/run" "$dir/log" "$dir/nginx" "$gw_port"
  ) || rc=$?
  return "$rc"
}

# throwaway_stop DIR: stops whatever of the above runs, then removes DIR.
throwaway_stop() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  stop_services "$dir/run"
  gateway_stop "$dir/nginx"
  [[ -n "${THROWAWAY_REDIS_PORT:-}" ]] && redis_stop "$dir/redis" "$THROWAWAY_REDIS_PORT" test
  smtp_stop "$dir/smtp.pid"
  if pg_running "$dir/pg"; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/pg" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}
