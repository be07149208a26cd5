# Redis: REDIS_URL if given; else 127.0.0.1:$CRUCIBLE_REDIS_PORT (6379); else start (or install,
# then start) redis-server there, in its own session (start_service), stopped last on the way out.

STARTED_REDIS_PID=""

ensure_redis() {
  if [ -n "${REDIS_URL:-}" ]; then
    say "using Redis at $REDIS_URL"
    return 0
  fi
  local port=${CRUCIBLE_REDIS_PORT:-6379}
  export REDIS_URL=redis://127.0.0.1:$port
  if tcp_open 127.0.0.1 "$port"; then
    say "using Redis at $REDIS_URL"
    return 0
  fi
  command -v redis-server >/dev/null || apt_install redis-server || die "Redis is not running and redis-server cannot be installed; set REDIS_URL"
  say "starting redis-server on 127.0.0.1:$port"
  mkdir -p .crucible/redis .crucible/logs
  start_service .crucible/logs/redis.log redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --dir "$PWD/.crucible/redis"
  STARTED_REDIS_PID=$STARTED_SERVICE_PID
  wait_for "tcp_open 127.0.0.1 $port" 10 || die "redis-server did not start (see .crucible/logs/redis.log)"
}

# Service-to-service least privilege (gateway/SECURITY.md): the gateway/scheduler and the agents
# each connect with their own Redis ACL user. Done when the launcher runs its own redis-server, or
# when CRUCIBLE_REDIS_ACL=on (then REDIS_URL must name a user that may run ACL SETUSER). Needs the build.
ensure_redis_acl() {
  local mode=${CRUCIBLE_REDIS_ACL:-auto}
  [ "$mode" = off ] && return 0
  [ "$mode" = auto ] && [ -z "$STARTED_REDIS_PID" ] && return 0
  say "creating the Redis ACL users of the gateway and the agents"
  local assignments
  assignments=$(node gateway/dist/admin/main.js redis-acl) || die "could not set up Redis ACL users (CRUCIBLE_REDIS_ACL=off skips this)"
  eval "export $(printf '%s' "$assignments" | tr '\n' ' ')"
}

# Last: agents and the scheduler report through Redis until they have stopped.
stop_redis() {
  [ -n "$STARTED_REDIS_PID" ] || return 0
  stop_service "$STARTED_REDIS_PID" redis-server 30
  STARTED_REDIS_PID=""
}
