#!/usr/bin/env bash
# Builds one container image per language runtime (each folder here with a runtime.json) from
# Debian packages, with mmdebstrap and `docker import`: no registry is needed.
#
# Images are versioned by content: crucible/<id>:<hash12>, where the hash covers this script and
# every file of the runtime's folder (runtime-catalog.ts computes the same hash to find the image,
# so a stale image is never used). A definition whose image exists is skipped, so a run with
# nothing to do takes well under a second. A new image is tagged only after its smoke test printed
# OK inside a container run with the sandbox's flags.
#
# Usage: build-images.sh [--hashes | --prune] [id...]     (DOCKER_HOST selects the engine)
#   --hashes   print "<id> <hash>" per runtime and exit (the TS side is tested against this)
#   --prune    also remove the runtime's older images (an agent still on an older definition
#              would then fail its runs as platform faults, so this is not the default)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
script=$(basename "${BASH_SOURCE[0]}")
suite=bookworm
path_env=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'build-images: %s\n' "$*" >&2; }

# sha256 over "<sha256>  <name>" lines: this script, then the runtime folder's files in byte order.
runtime_hash() {
  {
    (cd "$here" && sha256sum "$script")
    (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum)
  } | sha256sum | cut -c1-64
}

# Prints one field of runtime.json; arrays come out NUL-separated.
json_field() {
  node -e '
    const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[process.argv[2]];
    if (v === undefined) process.exit(3);
    process.stdout.write(Array.isArray(v) ? v.map((x) => x + "\0").join("") : typeof v === "object" ? JSON.stringify(v) : String(v));
  ' "$1/runtime.json" "$2"
}

# Runs a command with the same confinement container-spec.ts gives every evaluation (seccomp
# profile included). $3 is a build directory mounted at /build: writable for a compile step
# ("rw"), read-only for running its output ("ro"), or "-" for none.
sandboxed_run() {
  local image=$1 code=$2 build=$3 build_mode=$4
  shift 4
  local -a build_mount=()
  if [[ $build != - ]]; then
    build_mount=(--mount "type=bind,source=$build,target=/build$([[ $build_mode == ro ]] && echo ,readonly)")
  fi
  docker run --rm --init --network none --read-only \
    --security-opt "seccomp=$here/../security/seccomp.json" \
    --tmpfs /tmp:rw,noexec,nosuid,nodev,size=64m,nr_inodes=4096,mode=1777 \
    --user 65534:65534 --cap-drop ALL --security-opt no-new-privileges \
    --memory 256m --memory-swap 256m --pids-limit 64 --cpus 1 \
    --ulimit nofile=256:256 --ulimit nproc=4096:4096 --ulimit core=0:0 \
    --ulimit fsize=67108864:67108864 --log-driver none --hostname sandbox \
    --ipc private --shm-size 16m --cgroupns private --oom-score-adj 1000 \
    --env PATH="$path_env" --env LANG=C.UTF-8 --env HOME=/tmp \
    --mount "type=bind,source=$code,target=/code,readonly" "${build_mount[@]}" --workdir /code \
    "$image" "$@"
}

build() {
  local dir=$1 id hash tag candidate work packages version out smoke
  local -a run version_cmd compile
  id=$(basename "$dir")
  hash=$(runtime_hash "$dir")
  tag="crucible/$id:${hash:0:12}"
  if docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag is current"
    return 0
  fi
  [[ $(json_field "$dir" id) == "$id" ]] || { log "$dir/runtime.json: id must be \"$id\""; return 1; }
  packages=$(json_field "$dir" packages | tr '\0' ',')
  mapfile -d '' -t version_cmd < <(json_field "$dir" versionCommand)
  mapfile -d '' -t run < <(json_field "$dir" run)
  # A compiled language: "compile" is an object; its command writes /build, which "run" executes.
  mapfile -d '' -t compile < <(json_field "$dir" compile 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      if (s) process.stdout.write(JSON.parse(s).command.map((x) => x + "\0").join(""));
    });')
  smoke=$(json_field "$dir" smoke)

  work="$work_root/$id"
  mkdir "$work"
  log "building $tag from Debian $suite with ${packages%,}"
  local started=$SECONDS
  # The hooks run as root against the finished tree ("$1"). uid/gid 65534 must exist for tools
  # that look the user up; Debian's base-passwd normally provides them.
  # shellcheck disable=SC2016 # "$1" is expanded by mmdebstrap's hook shell, not here
  mmdebstrap --quiet --variant=essential --include="${packages%,}" \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='grep -q "^[^:]*:[^:]*:65534:" "$1/etc/passwd" || echo "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin" >> "$1/etc/passwd"' \
    --customize-hook='grep -q "^[^:]*:[^:]*:65534:" "$1/etc/group" || echo "nogroup:x:65534:" >> "$1/etc/group"' \
    --customize-hook="chroot \"\$1\" $(printf '%q ' "${version_cmd[@]}") > '$work/version'" \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    "$suite" "$work/rootfs.tar" >&2
  version=$(head -n1 "$work/version" | tr -cd 'A-Za-z0-9.+~_-')
  [[ -n $version ]] || { log "$id: the version command printed nothing"; return 1; }

  candidate="crucible/$id:candidate-${hash:0:12}"
  docker import \
    --change "ENV PATH=$path_env" --change 'ENV LANG=C.UTF-8' \
    --change "LABEL crucible.runtime=\"$id\" crucible.runtime.hash=\"$hash\" crucible.runtime.version=\"$version\"" \
    "$work/rootfs.tar" "$candidate" >/dev/null

  # The code directory is bind-mounted read-only and must be readable by the remapped uid.
  mkdir -p "$work/code"
  cp "$dir/$smoke" "$work/code/$smoke"
  chmod 0444 "$work/code/$smoke"
  chmod 0555 "$work/code"
  chmod 0711 "$work"
  local -a smoke_cmd=("${run[@]}" "/code/$smoke")
  if ((${#compile[@]} > 0)); then
    mkdir -m 0777 "$work/build"
    chmod 0777 "$work/build" # the remapped container uid writes it as "other"
    if ! out=$(sandboxed_run "$candidate" "$work/code" "$work/build" rw "${compile[@]}" 2>&1); then
      log "$id: compiling the smoke test failed: $out"
      docker rmi "$candidate" >/dev/null || true
      return 1
    fi
    smoke_cmd=("${run[@]}")
  fi
  local build_dir=-
  ((${#compile[@]} == 0)) || build_dir=$work/build
  if ! out=$(sandboxed_run "$candidate" "$work/code" "$build_dir" ro "${smoke_cmd[@]}") || [[ $out != OK ]]; then
    log "$id: smoke test failed (printed: ${out:-nothing}); image discarded"
    docker rmi "$candidate" >/dev/null || true
    return 1
  fi
  docker tag "$candidate" "$tag"
  docker rmi "$candidate" >/dev/null
  log "built $tag (version $version) in $((SECONDS - started))s; smoke test OK"
}

prune() {
  local id tag old
  id=$(basename "$1")
  tag="crucible/$id:$(runtime_hash "$1" | cut -c1-12)"
  for old in $(docker image ls --filter "label=crucible.runtime=$id" --format '{{.Repository}}:{{.Tag}}'); do
    [[ $old == "$tag" || $old == *'<none>'* ]] && continue
    log "removing $old"
    docker rmi "$old" >/dev/null || log "could not remove $old (in use?)"
  done
}

main() {
  local only_hashes=false prune=false
  case ${1:-} in
    --hashes) only_hashes=true; shift ;;
    --prune) prune=true; shift ;;
  esac
  local -a dirs=()
  if (($# > 0)); then
    for id in "$@"; do dirs+=("$here/$id"); done
  else
    for f in "$here"/*/runtime.json; do dirs+=("$(dirname "$f")"); done
  fi
  for dir in "${dirs[@]}"; do
    [[ -f $dir/runtime.json ]] || { log "no runtime at $dir"; exit 1; }
    if $only_hashes; then
      printf '%s %s\n' "$(basename "$dir")" "$(runtime_hash "$dir")"
    fi
  done
  $only_hashes && return 0

  docker version --format '{{.Server.Version}}' >/dev/null ||
    { log "Docker engine not reachable (DOCKER_HOST=${DOCKER_HOST:-unset})"; exit 1; }
  # Two builds at once (e.g. parallel test runs) would both bootstrap; the second waits instead.
  exec 9>/tmp/crucible-build-images.lock
  flock 9
  work_root=$(mktemp -d /tmp/crucible-build-XXXXXX)
  trap 'rm -rf "$work_root"' EXIT
  chmod 0711 "$work_root"
  # Each runtime is built by its own process (so `set -e` holds inside it): one that fails is
  # reported and left unavailable, with the reason in $failures_dir for the agent to show, and the
  # others are still built.
  local failed=0 id hash12 record
  mkdir -p "$failures_dir"
  for dir in "${dirs[@]}"; do
    id=$(basename "$dir")
    hash12=$(runtime_hash "$dir" | cut -c1-12)
    record="$failures_dir/$id-$hash12.failed"
    if work_root=$work_root bash "$here/$script" --build-one "$dir" 2> >(tee "$work_root/$id.log" >&2); then
      rm -f "$record"
    else
      failed=$((failed + 1))
      tail -n 3 "$work_root/$id.log" | tr '\n' ' ' >"$record"
      log "$id: build failed; it stays unavailable (see $record)"
    fi
    if $prune; then prune "$dir"; fi
  done
  return $((failed > 0))
}

# Where a failed build leaves its reason; runtime-catalog.ts reads it (same host, same tmpdir).
failures_dir=${TMPDIR:-/tmp}/crucible-image-builds

if [[ ${1:-} == --build-one ]]; then
  build "$2"
  exit 0
fi

main "$@"
