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
