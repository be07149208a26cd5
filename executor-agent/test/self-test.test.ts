// The enforcement self-test against the real engine: it passes on this engine under runc and
// runsc, caches a pass, and catches a limit the engine does not apply (simulated by removing the
// limit from the probe's create options, which is what an engine that ignores it amounts to).
// Also: a sandbox whose self-test fails refuses its languages with the reason. Needs DOCKER_HOST.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { ContainerSandbox, DEFAULT_RUNTIMES_DIR, loadRuntimeCatalog } from '../src/sandbox/container/index.js';
import { loadSeccompProfile } from '../src/sandbox/container/security-profiles.js';
import { enforcementSelfTest, type SelfTestInput } from '../src/sandbox/container/self-test.js';

const DOCKER_HOST = process.env.DOCKER_HOST || 'unix:///run/crucible/docker.sock';
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, ''), host: undefined });

describe('enforcement self-test (real engine)', () => {
  let input: Omit<SelfTestInput, 'runtime' | 'cacheDir'>;
  let cacheDir: string;
  before(async () => {
    await promisify(execFile)('bash', [join(DEFAULT_RUNTIMES_DIR, 'build-images.sh'), 'python'], { env: { ...process.env, DOCKER_HOST } });
    const python = (await loadRuntimeCatalog()).find((d) => d.id === 'python')!;
    const info = (await docker.info()) as { ID: string };
    input = { docker, engineId: info.ID, image: python.image, seccomp: await loadSeccompProfile(), agentId: `selftest-test-${process.pid}` };
    cacheDir = await mkdtemp(join(tmpdir(), 'crucible-selftest-test-'));
  });
  after(() => rm(cacheDir, { recursive: true, force: true }));

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
