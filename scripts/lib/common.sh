# Shared helpers for the ./crucible launcher. Sourced, never run.

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }

# True when something accepts TCP connections on host:port.
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") >/dev/null 2>&1; }

APT_UPDATED=""
# Installs Debian packages when root on Debian; returns non-zero otherwise.
apt_install() {
  is_root && is_debian || return 1
  if [ -z "$APT_UPDATED" ]; then
    say "apt-get update"
    apt-get update -qq >/dev/null || return 1
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Waits up to $2 seconds for command $1 to succeed.
wait_for() {
  local cmd=$1 seconds=$2 i
  for ((i = 0; i < seconds * 10; i++)); do
    eval "$cmd" && return 0
    sleep 0.1
  done
  return 1
}

# Services the launcher owns (dockerd, redis-server) run in their own session (setsid), so the
# SIGINT a terminal sends to the whole foreground process group on Ctrl-C never reaches them: they
# are stopped by the launcher, in order, after the gateway and its agents have finished
# (crucible's cleanup). Without job control a background job is no group leader, so setsid runs
# the service itself (no fork) and $! is its pid. Usage: start_service LOG COMMAND [ARGS...];
# the pid is left in STARTED_SERVICE_PID.
STARTED_SERVICE_PID=""
start_service() {
  local log=$1
  shift
  setsid "$@" >"$log" 2>&1 </dev/null &
  STARTED_SERVICE_PID=$!
}

# Stops a service the launcher started: SIGTERM, then SIGKILL after $3 seconds (default 30);
# returns once it has exited. $2 names it in messages.
stop_service() {
  local pid=$1 name=$2 seconds=${3:-30} i
  [ -n "$pid" ] || return 0
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  say "stopping $name"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$name did not stop in ${seconds}s: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}
