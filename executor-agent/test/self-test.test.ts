// The enforcement self-test against the real engine: it passes on this engine under runc and
// runsc, caches a pass, and catches a limit the engine does not apply (simulated by removing the
// limit from the probe's create options, which is what an engine that ignores it amounts to).
// Also: a sandbox whose self-test fails refuses its languages with the reason. Needs DOCKER_HOST.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { ContainerSandbox, DEFAULT_RUNTIMES_DIR, loadRuntimeCatalog } from '../src/sandbox/container/index.js';
import { loadSeccompProfile } from '../src/sandbox/container/security-profiles.js';
import { prepareSandboxDirs } from '../src/sandbox/container/sandbox-dir.js';
import { enforcementSelfTest, type SelfTestInput } from '../src/sandbox/container/self-test.js';
import { UidPool } from '../src/sandbox/container/uid-pool.js';

const DOCKER_HOST = process.env.DOCKER_HOST || 'unix:///run/crucible/docker.sock';
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, ''), host: undefined });

describe('enforcement self-test (real engine)', () => {
  let input: Omit<SelfTestInput, 'runtime' | 'cacheDir'>;
  let cacheDir: string;
  let agentDir: string;
  before(async () => {
    await promisify(execFile)('bash', [join(DEFAULT_RUNTIMES_DIR, 'build-images.sh'), 'python'], { env: { ...process.env, DOCKER_HOST } });
    const python = (await loadRuntimeCatalog()).find((d) => d.id === 'python')!;
    const info = (await docker.info()) as { ID: string; DockerRootDir: string };
    agentDir = await mkdtemp(join(tmpdir(), 'crucible-selftest-agent-'));
    // Like /tmp itself: gVisor's gofer (the engine's remapped root) must reach the code directory.
    await chmod(agentDir, 0o711);
    const dirs = await prepareSandboxDirs(join(agentDir, 'agent'), info.DockerRootDir);
    input = {
      docker,
      engineId: info.ID,
      image: python.image,
      seccomp: await loadSeccompProfile(),
      agentId: `selftest-test-${process.pid}`,
      codeDirParent: dirs.code,
      uids: new UidPool(dirs.uids, 60_000),
    };
    cacheDir = await mkdtemp(join(tmpdir(), 'crucible-selftest-test-'));
  });
  after(async () => {
    await rm(cacheDir, { recursive: true, force: true });
    await rm(agentDir, { recursive: true, force: true });
  });

  for (const runtime of ['runc', 'runsc'] as const) {
    it(`passes on this engine under ${runtime}, then reuses the verdict`, async () => {
      const first = await enforcementSelfTest({ ...input, runtime, cacheDir });
      assert.deepEqual(first.problems, []);
      assert.equal(first.ok, true);
      assert.equal(first.cached, false);
      const second = await enforcementSelfTest({ ...input, runtime, cacheDir });
      assert.equal(second.cached, true);
      // A different image (or runtime, engine, profile) is a different key: no reuse.
      const other = await enforcementSelfTest({ ...input, runtime, cacheDir, image: `${input.image}-missing`, now: Date.now() });
      assert.equal(other.ok, false);
      assert.match(other.problems.join(), /could not run/);
    });
  }

  it('catches a memory limit the engine does not apply', async () => {
    const v = await enforcementSelfTest({
      ...input,
      runtime: 'runc',
      cacheDir,
      tamper: (spec) => ({ ...spec, HostConfig: { ...spec.HostConfig, Memory: 0, MemorySwap: 0 } }),
    });
    assert.equal(v.ok, false);
    assert.match(v.problems.join('; '), /memory limit not enforced: a probe held 256 MiB under a 32 MiB limit/);
  });

  it('catches a pids limit the engine does not apply, and a writable root', async () => {
    const v = await enforcementSelfTest({
      ...input,
      runtime: 'runc',
      cacheDir,
      // Room for 256 sleeping forks, so the only thing that could stop them is the pids limit.
      tamper: (spec) => ({ ...spec, HostConfig: { ...spec.HostConfig, PidsLimit: -1, Memory: 1 << 30, MemorySwap: 1 << 30, ReadonlyRootfs: false, Ulimits: [] }, User: '0:0' }),
    });
    assert.equal(v.ok, false);
    const all = v.problems.join('; ');
    assert.match(all, /pids limit not enforced/);
    assert.match(all, /root filesystem is writable/);
  });

  it('catches a program not running as its pooled uid, or without the per-sandbox rlimits', async () => {
    const v = await enforcementSelfTest({
      ...input,
      runtime: 'runc',
      cacheDir,
      // What an engine ignoring User and Ulimits amounts to: every sandbox one uid, the engine's limits.
      tamper: (spec) => ({ ...spec, User: '65534:65534', HostConfig: { ...spec.HostConfig, Ulimits: [] } }),
    });
    assert.equal(v.ok, false);
    const all = v.problems.join('; ');
    assert.match(all, /ran as uid 65534:65534, not its pooled uid 2\d{4}/);
    for (const name of ['sigpending', 'msgqueue', 'memlock', 'nproc']) assert.match(all, new RegExp(`rlimit ${name} not applied`));
  });

  it('a sandbox whose private directory is not its own refuses every language, saying why', async () => {
    const planted = join(agentDir, 'planted');
    await mkdir(planted);
    await chown(planted, 4242, 4242); // another local user got there first
    const sb = new ContainerSandbox({ docker: DOCKER_HOST, agentId: `selftest-planted-${process.pid}`, sandboxDir: planted });
    try {
      await sb.init();
      for (const l of sb.languages()) {
        assert.equal(l.available, false, l.id);
        assert.match(l.reason!, /private directory is unusable: .*must be a directory owned by the agent/);
      }
    } finally {
      await sb[Symbol.asyncDispose]();
    }
  });

  it('a sandbox whose self-test fails refuses its languages, saying why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crucible-selftest-cache-'));
    const sb = new ContainerSandbox({ docker: DOCKER_HOST, agentId: `selftest-sb-${process.pid}`, selfTestCacheDir: dir, selfTestTamper: (spec) => ({ ...spec, HostConfig: { ...spec.HostConfig, Memory: 0, MemorySwap: 0 } }) });
    try {
      await sb.init();
      const python = sb.languages().find((l) => l.id === 'python')!;
      assert.equal(python.available, false);
      assert.match(python.reason!, /enforcement self-test failed under runc: memory limit not enforced/);
      const details = sb.details() as { selfTest: Record<string, { ok: boolean }> };
      assert.equal(details.selfTest.runc!.ok, false);
      assert.deepEqual(await readdir(dir), [], 'a failing verdict is not cached');
    } finally {
      await sb[Symbol.asyncDispose]();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
