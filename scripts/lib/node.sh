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
  build_jobs
  say "building (tsc -b)"
  npx tsc -b >&2 || die "TypeScript build failed"
  build_site
}

# The scheduler's JSON form of jobs/crucible-executor.nomad.hcl (the HCL is the source of truth).
# Regenerated only when the HCL or its generator changed.
build_jobs() {
  local stamp=node_modules/.crucible-jobs-hash want
  want=$(cat jobs/crucible-executor.nomad.hcl scheduler/scripts/jobspec.ts scheduler/scripts/executor-job.ts | sha256sum | cut -c1-16)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  say "generating the executor job JSON from jobs/crucible-executor.nomad.hcl"
  node --import tsx scheduler/scripts/executor-job.ts >&2 || die "jobspec generation failed"
  echo "$want" >"$stamp"
}

# The status site (gateway/site, Vite) into gateway/dist/site, where the gateway serves it from.
# Rebuilt only when its sources or the lock file changed: the stamp is kept inside the output, so
# deleting the output also forces a rebuild.
build_site() {
  local stamp=gateway/dist/site/.source-hash want
  want=$({ find gateway/site -type f -not -path '*/node_modules/*' -print0 | sort -z | xargs -0 sha256sum; sha256sum package-lock.json; } | sha256sum | cut -c1-16)
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && return 0
  say "building the status site (vite build)"
  npm run -s build:site -w gateway >&2 || die "status site build failed"
  echo "$want" >"$stamp"
}
