# Node dependencies and the TypeScript build.

ensure_node_deps() {
  command -v node >/dev/null || die "Node.js 20 is required (node not found)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or newer is required (found $(node --version))"
  # npm ci only when the lock file changed since the last install: re-runs stay fast.
  local stamp=node_modules/.crucible-lock-hash want
  want=$(sha256sum package-lock.json | cut -c1-16)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing npm dependencies (npm ci)"
    npm ci --no-audit --no-fund --loglevel=error >&2
    echo "$want" >"$stamp"
  fi
}

build_ts() {
  say "building (tsc -b)"
  npx tsc -b >&2 || die "TypeScript build failed"
}
