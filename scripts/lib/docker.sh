# The Docker engine: a working DOCKER_HOST, the project's own engine, or the default socket; else,
# when root on Debian, install docker.io (+ runsc) and start dockerd with the project's config:
# user-namespace remapping on (container root is an unprivileged host uid), no bridge network,
# its own data root and socket so it never disturbs another engine on the machine.

CRUCIBLE_DOCKER_RUN=/run/crucible
CRUCIBLE_DOCKER_DATA=/var/lib/crucible/docker
STARTED_DOCKERD_PID=""
DOCKER_OK=""

docker_works() { DOCKER_HOST=$1 timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

ensure_docker() {
  local candidate
  for candidate in "${DOCKER_HOST:-}" "unix://$CRUCIBLE_DOCKER_RUN/docker.sock" "unix:///var/run/docker.sock"; do
    [ -n "$candidate" ] || continue
    if command -v docker >/dev/null && docker_works "$candidate"; then
      export DOCKER_HOST=$candidate
      DOCKER_OK=1
      say "using the Docker engine at $DOCKER_HOST"
      return 0
    fi
  done
  if ! is_root || ! is_debian; then
    warn "no usable Docker engine and not root on Debian: container languages will be unavailable"
    return 0
  fi
  command -v dockerd >/dev/null || apt_install docker.io || { warn "could not install docker.io"; return 0; }
  command -v runsc >/dev/null || apt_install runsc || warn "could not install runsc (gVisor); runc only"
  command -v newuidmap >/dev/null || apt_install uidmap || true
  start_dockerd
}

start_dockerd() {
  mkdir -p "$CRUCIBLE_DOCKER_RUN" "$CRUCIBLE_DOCKER_DATA" .crucible/docker .crucible/logs
  sed -e "s#@DATA_ROOT@#$CRUCIBLE_DOCKER_DATA#g" -e "s#@RUN_DIR@#$CRUCIBLE_DOCKER_RUN#g" \
    scripts/docker/daemon.json >.crucible/docker/daemon.json
  # A stale pid file from a killed engine would stop dockerd from starting.
  if [ -f "$CRUCIBLE_DOCKER_RUN/docker.pid" ] && ! kill -0 "$(cat "$CRUCIBLE_DOCKER_RUN/docker.pid")" 2>/dev/null; then
    rm -f "$CRUCIBLE_DOCKER_RUN/docker.pid"
  fi
  say "starting dockerd (userns-remap, socket $CRUCIBLE_DOCKER_RUN/docker.sock)"
  start_service .crucible/logs/dockerd.log dockerd --config-file "$PWD/.crucible/docker/daemon.json"
  STARTED_DOCKERD_PID=$STARTED_SERVICE_PID
  export DOCKER_HOST="unix://$CRUCIBLE_DOCKER_RUN/docker.sock"
  if wait_for "docker_works $DOCKER_HOST" 30; then
    DOCKER_OK=1
  else
    warn "dockerd did not come up (see .crucible/logs/dockerd.log): container languages will be unavailable"
    stop_dockerd
  fi
}

# Only an engine this launcher started (a shared one it found is left alone). dockerd stops its
# containers on SIGTERM; by then the agents have finished theirs.
stop_dockerd() {
  [ -n "$STARTED_DOCKERD_PID" ] || return 0
  stop_service "$STARTED_DOCKERD_PID" dockerd 60
  STARTED_DOCKERD_PID=""
}

# Loads the sandbox's AppArmor profile when the host kernel has AppArmor (the agents apply it only
# once it is loaded, and say in /readyz when it is not). Hosts without AppArmor skip this.
ensure_apparmor_profile() {
  [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] || return 0
  is_root || { warn "AppArmor is enabled but not root: the crucible-sandbox profile is not loaded"; return 0; }
  command -v apparmor_parser >/dev/null || apt_install apparmor || { warn "apparmor_parser unavailable: profile not loaded"; return 0; }
  apparmor_parser -r -W executor-agent/security/apparmor-profile || warn "loading the AppArmor profile failed"
}

# Builds runtime images that are missing or out of date (each is tagged by its definition's hash).
ensure_images() {
  [ -n "$DOCKER_OK" ] || return 0
  ensure_apparmor_profile
  command -v mmdebstrap >/dev/null || apt_install mmdebstrap || { warn "mmdebstrap unavailable: cannot build runtime images"; return 0; }
  bash executor-agent/runtimes/build-images.sh || warn "building runtime images failed: container languages will be unavailable"
}
