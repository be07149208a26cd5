// Unit tests of the per-sandbox kernel isolation pieces that need no engine: the uid pool shared
// by agent processes, the agent's private directory, sealing a compile step's output, the
// rlimits and their hierarchy budget, and the self-test's judgement of the kernel probe.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '@crucible/storage/domain';
import { createBuildDir, sealBuild } from '../src/sandbox/container/code-dir.js';
import { containerSpec, SANDBOX_RLIMITS } from '../src/sandbox/container/container-spec.js';
import { hierarchyBudgetProblems } from '../src/sandbox/container/kernel-budgets.js';
import { remappedRoot, securePrivateDir } from '../src/sandbox/container/sandbox-dir.js';
import { judgeKernel } from '../src/sandbox/container/self-test.js';
import { SANDBOX_UID_BASE, SANDBOX_UID_COUNT, UidPool } from '../src/sandbox/container/uid-pool.js';
import { InvalidProgramError } from '../src/sandbox/sandbox.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'crucible-kernel-isolation-'));
});
after(() => rm(root, { recursive: true, force: true }));

describe('UidPool', () => {
  it('never hands one uid to two holders, across pools sharing a directory, and reuses released ones', async () => {
    const dir = join(root, 'pool-a');
    const a = new UidPool(dir, 60_000, 30_000, 8);
    const b = new UidPool(dir, 60_000, 30_000, 8);
    const held = await Promise.all([...Array(8)].map((_, i) => (i % 2 ? a : b).acquire()));
    assert.deepEqual(held.map((h) => h.uid).sort(), [30_000, 30_001, 30_002, 30_003, 30_004, 30_005, 30_006, 30_007]);
    await assert.rejects(a.acquire(), /all 8 sandbox uids .* are in use/);
    await held[3]![Symbol.asyncDispose]();
    assert.equal((await b.acquire()).uid, held[3]!.uid);
  });

  it('is shared by separate agent processes: each gets its own uid', async () => {
    const dir = join(root, 'pool-procs');
    const script = `import('${new URL('../src/sandbox/container/uid-pool.ts', import.meta.url).pathname}').then(async ({ UidPool }) => {
      const pool = new UidPool(${JSON.stringify(dir)}, 60000, 31000, 4);
      const got = await Promise.all([pool.acquire(), pool.acquire()]);
      console.log(got.map((g) => g.uid).join(','));
      process.stdin.resume(); process.stdin.on('end', () => process.exit(0));
    })`;
    const procs = [0, 1].map(() => spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
    try {
      // Each prints its two uids, then holds them until its stdin closes; an error ends it early.
      const firstLine = (p: (typeof procs)[number]) =>
        new Promise<string>((resolve, reject) => {
          p.stdout!.once('data', (d: Buffer) => resolve(String(d)));
          p.once('exit', (code) => reject(new Error(`an agent process exited (${code}) without its uids`)));
        });
      const outs = await Promise.all(procs.map(async (p) => (await firstLine(p)).trim().split(',').map(Number)));
      assert.deepEqual(outs.flat().sort(), [31_000, 31_001, 31_002, 31_003], 'four uids, none twice');
    } finally {
      for (const p of procs) p.stdin!.end();
      await Promise.all(procs.map((p) => once(p, 'exit')));
    }
  });

  it("takes over a dead agent's lease only once it is stale, and never a live one's", async () => {
    const dir = join(root, 'pool-stale');
    await mkdir(dir, { recursive: true });
    const old = new Date(Date.now() - 3_600_000);
    // A dead holder (pid 2^22 + 1 does not exist), a live one (this process, right start time: it is
    // what acquire writes), and a dead one that took its lease just now.
    await writeFile(join(dir, '32000'), JSON.stringify({ pid: 4_194_305, start: '1' }));
    await utimes(join(dir, '32000'), old, old);
    const live = await new UidPool(dir, 60_000, 32_001, 1).acquire();
    await utimes(join(dir, '32001'), old, old);
    await writeFile(join(dir, '32002'), JSON.stringify({ pid: 4_194_305, start: '1' }));
    const pool = new UidPool(dir, 60_000, 32_000, 3);
    const got = await pool.acquire();
    assert.equal(got.uid, 32_000, 'the stale dead lease is reclaimed');
    await assert.rejects(pool.acquire(), /in use/, 'the live lease and the fresh dead one are not');
    assert.deepEqual(await pool.leased(), [32_000, 32_001, 32_002]);
    await live[Symbol.asyncDispose]();
  });

  it('stays inside the remap range, clear of root and nobody', () => {
    assert.ok(SANDBOX_UID_BASE > 0 && SANDBOX_UID_BASE + SANDBOX_UID_COUNT <= 65_534);
  });
});

describe("the agent's private directory", () => {
  it('is 0710 for the engine\'s remapped root group, or 0700 without one', async () => {
    const shared = await securePrivateDir(join(root, 'private-shared'), { gid: 100_000 });
    const info = await stat(shared);
    assert.equal(info.mode & 0o777, 0o710);
    assert.equal(info.gid, 100_000);
    assert.equal((await stat(await securePrivateDir(join(root, 'private-alone')))).mode & 0o777, 0o700);
  });

  it('refuses a directory planted by another user, or a symlink', async () => {
    const planted = join(root, 'planted');
    await mkdir(planted);
    await chown(planted, 4242, 4242);
    await assert.rejects(securePrivateDir(planted), /must be a directory owned by the agent .* owned by uid 4242/);
    const link = join(root, 'link');
    await symlink(join(root, 'private-alone'), link);
    await assert.rejects(securePrivateDir(link), /not a directory/);
  });

  it("names the engine's remapped root from its data root", () => {
    assert.deepEqual(remappedRoot('/var/lib/docker/100000.100000'), { gid: 100_000 });
    assert.equal(remappedRoot('/var/lib/docker'), undefined);
  });
});

describe('sealBuild', () => {
  it("copies the compile step's regular files into agent-owned, unwritable-by-others files and drops the rest", async () => {
    const parent = await securePrivateDir(join(root, 'seal'));
    const build = await createBuildDir(parent);
    assert.equal((await stat(build.path)).mode & 0o777, 0o777);
    await writeFile(join(build.path, 'main'), 'ELF', { mode: 0o777 });
    await mkdir(join(build.path, 'sub'));
    await writeFile(join(build.path, 'sub', 'data'), 'd', { mode: 0o666 });
    await symlink('/etc/shadow', join(build.path, 'evil'));
    // What the compiler's (remapped) uid leaves: files it owns.
    await chown(join(build.path, 'main'), 120_007, 120_007);
    const sealed = await sealBuild(build, parent);
    try {
      assert.deepEqual((await readdir(sealed.path)).sort(), ['main', 'sub']);
      const main = await stat(join(sealed.path, 'main'));
      assert.equal(main.uid, process.getuid!());
      assert.equal(main.mode & 0o777, 0o755);
      assert.equal((await stat(join(sealed.path, 'sub', 'data'))).mode & 0o777, 0o644);
      assert.equal(await readFile(join(sealed.path, 'main'), 'utf8'), 'ELF');
      // The copy does not follow the original: changing the build directory changes nothing.
      await chmod(join(build.path, 'main'), 0o777);
      await writeFile(join(build.path, 'main'), 'SWAPPED');
      assert.equal(await readFile(join(sealed.path, 'main'), 'utf8'), 'ELF');
      assert.ok((await lstat(join(sealed.path, 'sub'))).isDirectory());
    } finally {
      await sealed[Symbol.asyncDispose]();
      await build[Symbol.asyncDispose]();
    }
    assert.deepEqual(await readdir(parent), []);
  });

  it('refuses an output past its bounds as the program\'s error', async () => {
    const parent = await securePrivateDir(join(root, 'seal-big'));
    const build = await createBuildDir(parent);
    for (let i = 0; i < 4100; i++) await writeFile(join(build.path, `f${i}`), '');
    await assert.rejects(sealBuild(build, parent), (err: unknown) => err instanceof InvalidProgramError && /more than 4096 entries/.test(err.message));
    await build[Symbol.asyncDispose]();
    assert.deepEqual(await readdir(parent), [], 'nothing left behind');
  });
});

describe('per-sandbox rlimits', () => {
  const spec = containerSpec({
    evaluationId: 'e',
    agentId: 'a',
    image: 'i',
    runtime: 'runc',
    run: ['python3'],
    entryFile: 'main.py',
    args: [],
    seccompProfile: '{}',
    limits: { ...DEFAULT_LIMITS, pids: 32 },
    hostCodeDir: '/x',
    uid: 20_123,
    now: 0,
  });

  it('runs as the pooled uid with bounded signals, no message queues, little locked memory, nproc above pids', () => {
    assert.equal(spec.User, '20123:20123');
    const u = Object.fromEntries(spec.HostConfig!.Ulimits!.map((l) => [l.Name, [l.Soft, l.Hard]]));
    assert.deepEqual(u.sigpending, [128, 128]);
    assert.deepEqual(u.msgqueue, [0, 0]);
    assert.deepEqual(u.memlock, [16_384, 16_384]);
    assert.deepEqual(u.nproc, [48, 48]);
  });

  it("masks the host-wide pty allocator, keeping Docker's default masks", () => {
    const masked = spec.HostConfig!.MaskedPaths!;
    for (const path of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/sys/firmware', '/dev/pts/ptmx']) assert.ok(masked.includes(path), path);
  });

  it('are refused where all sandboxes together could exceed half the host\'s limits', () => {
    const limits = (sig: string, q: string, lock: string) =>
      `Limit                     Soft Limit           Hard Limit           Units\nMax locked memory         ${lock}              ${lock}              bytes\nMax pending signals       ${sig}                ${sig}                signals\nMax msgqueue size         ${q}               ${q}               bytes\n`;
    assert.deepEqual(hierarchyBudgetProblems(limits('96365', '819200', '8388608')), []);
    assert.deepEqual(hierarchyBudgetProblems(limits('unlimited', 'unlimited', 'unlimited')), []);
    const tight = hierarchyBudgetProblems(limits('4096', '819200', '1048576'));
    assert.equal(tight.length, 2);
    assert.match(tight.join('; '), new RegExp(`256 sandboxes × sigpending ${SANDBOX_RLIMITS.sigpending} = 32768 exceeds half the host's limit of 4096`));
    assert.match(tight.join('; '), /memlock/);
    assert.match(hierarchyBudgetProblems('').join(), /cannot read the host's sigpending limit/);
  });
});

describe('judgeKernel', () => {
  const good = { uid: 20_001, gid: 20_001, sigpending: 128, msgqueue: 0, memlock: 16_384, nproc: 32, oom: 'restored', oom_score_adj: '1000' };
  const judge = (f: Record<string, unknown>, runtime: 'runc' | 'runsc' = 'runc') =>
    judgeKernel({ outcome: 'success', stdout: `${JSON.stringify(f)}\n`, stderr: '' }, { uid: 20_001, runtime, pids: 16 });

  it('passes a pooled uid, the rlimits and a guarded or pinned OOM score', () => {
    assert.deepEqual(judge(good), []);
    assert.deepEqual(judge({ ...good, oom: 'pinned' }), []);
    assert.deepEqual(judge({ ...good, nproc: 96, oom: 'lowered' }, 'runsc'), [], 'under gVisor the score is emulated');
  });

  it('names each failure', () => {
    assert.match(judge({ ...good, uid: 65_534 }).join(), /not its pooled uid 20001/);
    assert.match(judge({ ...good, sigpending: 96_365 }).join(), /rlimit sigpending not applied: 96365 instead of 128/);
    assert.match(judge({ ...good, oom: 'lowered', oom_score_adj: '0' }).join(), /OOM score and it stayed lowered \(now 0\)/);
    assert.match(judgeKernel({ outcome: 'killed', stdout: '', stderr: 'x' }, { uid: 1, runtime: 'runc', pids: 1 }).join(), /no findings/);
  });
});
