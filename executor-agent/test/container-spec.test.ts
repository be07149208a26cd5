// Unit tests of the container sandbox's pure parts: the create options, the outcome rules, the
// engine check, the output demuxer, file-name checks and the runtime catalog. No Docker needed.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS } from '@crucible/storage/domain';
import { InvalidProgramError } from '../src/sandbox/sandbox.js';
import { checkFileName, createCodeDir, decodeFiles, reapCodeDirs } from '../src/sandbox/container/code-dir.js';
import {
  BUILD_DIR,
  checkLimits,
  CODE_DIR,
  containerSpec,
  entryFile,
  LABELS,
  REAP_GRACE_MS,
  RUNSC_PIDS_OVERHEAD,
  type ContainerSpecInput,
} from '../src/sandbox/container/container-spec.js';
import { DockerStreamDemuxer } from '../src/sandbox/container/docker-output.js';
import { engineProblems, type EngineInfo } from '../src/sandbox/container/engine-check.js';
import { decideOutcome } from '../src/sandbox/container/outcome.js';
import { DEFAULT_RUNTIMES_DIR, loadRuntimeCatalog } from '../src/sandbox/container/runtime-catalog.js';

const input: ContainerSpecInput = {
  evaluationId: 'eval-1',
  agentId: 'agent-7',
  image: 'crucible/python:0123456789ab',
  runtime: 'runc',
  run: ['python3', '-B'],
  entryFile: 'main.py',
  args: ['--flag', 'x'],
  limits: { ...DEFAULT_LIMITS, memoryMb: 64, pids: 16, cpus: 0.5, timeoutMs: 2000 },
  hostCodeDir: '/tmp/crucible-code-abc',
  uid: 20_007,
  seccompProfile: '{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}',
  now: 1_000_000,
};

describe('containerSpec', () => {
  const spec = containerSpec(input);
  const host = spec.HostConfig!;

  it('isolates the network, the filesystem and the user', () => {
    assert.equal(host.NetworkMode, 'none');
    assert.equal(spec.NetworkDisabled, true);
    assert.equal(host.ReadonlyRootfs, true);
    assert.equal(spec.User, '20007:20007');
    assert.deepEqual(host.CapDrop, ['ALL']);
    assert.equal(host.CapAdd, undefined);
    assert.deepEqual(host.SecurityOpt, ['no-new-privileges', `seccomp=${input.seccompProfile}`]);
    assert.equal(host.Privileged, false);
    assert.equal(spec.Hostname, 'sandbox');
    assert.equal(host.IpcMode, 'private');
  });

  it('mounts only the code, read-only, and a small tmpfs', () => {
    assert.deepEqual(host.Mounts, [{ Type: 'bind', Source: '/tmp/crucible-code-abc', Target: CODE_DIR, ReadOnly: true }]);
    assert.equal(host.Binds, undefined);
    assert.deepEqual(Object.keys(host.Tmpfs!), ['/tmp']);
    const tmp = host.Tmpfs!['/tmp']!.split(',');
    for (const opt of ['nosuid', 'nodev', 'noexec', 'size=64m', 'nr_inodes=4096']) assert.ok(tmp.includes(opt), opt);
    assert.equal(spec.WorkingDir, CODE_DIR);
    assert.ok(!JSON.stringify(spec).includes('docker.sock'));
  });

  it('applies every limit', () => {
    assert.equal(host.Memory, 64 * 1024 * 1024);
    assert.equal(host.MemorySwap, host.Memory);
    assert.equal(host.PidsLimit, 16);
    assert.equal(host.NanoCpus, 500_000_000);
    const ulimits = Object.fromEntries(host.Ulimits!.map((u) => [u.Name, [u.Soft, u.Hard]]));
    assert.deepEqual(ulimits.core, [0, 0]);
    assert.deepEqual(ulimits.fsize, [64 * 1024 * 1024, 64 * 1024 * 1024]);
    assert.ok(ulimits.nofile && ulimits.nproc);
    assert.equal(host.Init, true);
    assert.deepEqual(host.LogConfig, { Type: 'none', Config: {} });
  });

  it('passes a minimal environment and the command with the entry file and args', () => {
    assert.deepEqual(spec.Env!.map((e) => e.split('=')[0]).sort(), ['HOME', 'LANG', 'PATH']);
    assert.ok(spec.Env!.includes('HOME=/tmp'));
    assert.deepEqual(spec.Cmd, ['python3', '-B', '/code/main.py', '--flag', 'x']);
    assert.equal(spec.Image, input.image);
  });

  it('attaches stdin once, without a TTY', () => {
    assert.equal(spec.OpenStdin, true);
    assert.equal(spec.StdinOnce, true);
    assert.equal(spec.Tty, false);
  });

  it('labels the container for reaping', () => {
    assert.deepEqual(spec.Labels, {
      [LABELS.managed]: 'true',
      [LABELS.evaluation]: 'eval-1',
      [LABELS.agent]: 'agent-7',
      [LABELS.deadline]: String(1_000_000 + 2000 + REAP_GRACE_MS),
    });
  });

  it('selects the OCI runtime; under runsc the pids limit leaves room for the sandbox kernel', () => {
    assert.equal(host.Runtime, 'runc');
    const runsc = containerSpec({ ...input, runtime: 'runsc' }).HostConfig!;
    assert.equal(runsc.Runtime, 'runsc');
    assert.equal(runsc.PidsLimit, 16 + RUNSC_PIDS_OVERHEAD);
  });

  it('applies the AppArmor profile only when given one', () => {
    const withProfile = containerSpec({ ...input, appArmorProfile: 'crucible-sandbox' }).HostConfig!;
    assert.ok(withProfile.SecurityOpt!.includes('apparmor=crucible-sandbox'));
    assert.ok(!host.SecurityOpt!.some((o: string) => o.startsWith('apparmor')));
  });

  it('mounts a build directory writable for a compile step and read-only to run its output', () => {
    const compile = containerSpec({ ...input, run: ['cc', '-o', '/build/main'], entryFile: null, args: [], build: { hostDir: '/tmp/b', writable: true } });
    assert.deepEqual(compile.Cmd, ['cc', '-o', '/build/main']);
    assert.deepEqual(compile.HostConfig!.Mounts![1], { Type: 'bind', Source: '/tmp/b', Target: BUILD_DIR, ReadOnly: false });
    const run = containerSpec({ ...input, run: ['/build/main'], entryFile: null, build: { hostDir: '/tmp/b', writable: false } });
    assert.deepEqual(run.Cmd, ['/build/main', '--flag', 'x']);
    assert.equal(run.HostConfig!.Mounts![1]!.ReadOnly, true);
    assert.equal(run.HostConfig!.ReadonlyRootfs, true);
  });
});

describe('checkLimits', () => {
  it('accepts the defaults and refuses limits no container can be made with', () => {
    checkLimits(DEFAULT_LIMITS);
    for (const bad of [{ memoryMb: 1 }, { pids: 0 }, { pids: 1.5 }, { cpus: 0 }, { timeoutMs: 0 }, { memoryMb: Number.NaN }]) {
      assert.throws(() => checkLimits({ ...DEFAULT_LIMITS, ...bad }), InvalidProgramError, JSON.stringify(bad));
    }
  });
});

describe('entryFile', () => {
  it('prefers the runtime main file, else the first file', () => {
    assert.equal(entryFile(['util.py', 'main.py'], 'main.py'), 'main.py');
    assert.equal(entryFile(['main', 'util.py'], 'main.py'), 'main');
  });
});

describe('decideOutcome', () => {
  it('maps exits', () => {
    assert.deepEqual(decideOutcome({ exitCode: 0 }), { outcome: 'success', exitCode: 0, signal: null });
    assert.deepEqual(decideOutcome({ exitCode: 3 }), { outcome: 'error', exitCode: 3, signal: null });
    // A status above 128 is the program's to choose (exit(139) or a segfault look alike): kept as is.
    assert.deepEqual(decideOutcome({ exitCode: 139 }), { outcome: 'error', exitCode: 139, signal: null });
    assert.deepEqual(decideOutcome({ exitCode: 255 }), { outcome: 'error', exitCode: 255, signal: null });
  });
  it('tells our kills from the OOM killer and from others', () => {
    assert.deepEqual(decideOutcome({ exitCode: 137, killedFor: 'timeout' }), { outcome: 'timeout', exitCode: null, signal: 'SIGKILL' });
    assert.deepEqual(decideOutcome({ exitCode: 137, killedFor: 'killed' }), { outcome: 'killed', exitCode: null, signal: 'SIGKILL' });
    assert.deepEqual(decideOutcome({ exitCode: 137, oomKilled: true }), { outcome: 'memory_limit', exitCode: null, signal: 'SIGKILL' });
  });
  it('never takes a verdict from a status the program chose (issue 12: exit(137) is not "killed")', () => {
    for (const exitCode of [137, 143, 130, 152, 153]) {
      assert.deepEqual(decideOutcome({ exitCode }), { outcome: 'error', exitCode, signal: null });
      assert.deepEqual(decideOutcome({ exitCode, oomKilled: false }), { outcome: 'error', exitCode, signal: null });
    }
    // The cgroup's word that memory reached its limit turns only a SIGKILL status into memory_limit.
    assert.deepEqual(decideOutcome({ exitCode: 137, memoryLimitReached: true }), { outcome: 'memory_limit', exitCode: null, signal: 'SIGKILL' });
    assert.deepEqual(decideOutcome({ exitCode: 1, memoryLimitReached: true }), { outcome: 'error', exitCode: 1, signal: null });
    assert.deepEqual(decideOutcome({ exitCode: 137, memoryLimitReached: false, oomKilled: false }), { outcome: 'error', exitCode: 137, signal: null });
    // A sandbox kill that raced the program's own exit(137)... is still the sandbox's kill:
    // the platform did decide to stop it, and the status agrees.
    assert.equal(decideOutcome({ exitCode: 137, killedFor: 'killed' }).outcome, 'killed');
    // ...but a deadline that raced a program's own other status leaves the program's result.
    assert.deepEqual(decideOutcome({ exitCode: 143, killedFor: 'timeout' }), { outcome: 'error', exitCode: 143, signal: null });
  });
  it('keeps output_limit whatever the exit, and a natural exit that beat the deadline', () => {
    assert.equal(decideOutcome({ exitCode: 0, killedFor: 'output_limit' }).outcome, 'output_limit');
    assert.equal(decideOutcome({ exitCode: 0, killedFor: 'timeout' }).outcome, 'success');
  });
});

describe('engineProblems', () => {
  const good: EngineInfo = {
    MemoryLimit: true,
    SwapLimit: true,
    PidsLimit: true,
    CpuCfsQuota: true,
    CgroupVersion: '1',
    SecurityOptions: ['name=seccomp,profile=default', 'name=userns'],
    Runtimes: { runc: {}, runsc: {} },
  };
  it('accepts a userns-remapped engine with cgroup limits', () => {
    assert.deepEqual(engineProblems(good, 'runc'), []);
    assert.deepEqual(engineProblems(good, 'runsc'), []);
  });
  it('refuses what would silently weaken the sandbox', () => {
    assert.match(engineProblems({ ...good, SecurityOptions: ['name=seccomp,profile=default', 'name=rootless'] }, 'runc').join(), /rootless engine on cgroup v1/);
    assert.match(engineProblems({ ...good, SecurityOptions: ['name=seccomp,profile=default'] }, 'runc').join(), /host root/);
    assert.match(engineProblems({ ...good, MemoryLimit: false }, 'runc').join(), /memory/);
    assert.match(engineProblems({ ...good, SwapLimit: false }, 'runc').join(), /swap/);
    assert.match(engineProblems({ ...good, Runtimes: { runc: {} } }, 'runsc').join(), /runsc is not registered/);
  });
});

describe('DockerStreamDemuxer', () => {
  const frame = (type: number, text: string) => {
    const body = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = type;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  it('splits frames however the bytes are chunked', () => {
    const all = Buffer.concat([frame(1, 'hello '), frame(2, 'err'), frame(1, 'world'), frame(1, '')]);
    for (const size of [1, 3, 7, 8, 9, all.length]) {
      const got = { stdout: '', stderr: '' };
      const demux = new DockerStreamDemuxer((s, d) => (got[s] += d.toString()));
      for (let i = 0; i < all.length; i += size) demux.push(all.subarray(i, i + size));
      assert.deepEqual(got, { stdout: 'hello world', stderr: 'err' }, `chunk size ${size}`);
      assert.equal(demux.complete, true);
    }
  });
});

describe('code directory', () => {
  it('rejects names that are not plain file names', () => {
    for (const bad of ['../x.py', '..', '.', 'a/b.py', '/etc/passwd', 'a\\b', '', 'x\0y', 'a'.repeat(256)]) {
      assert.throws(() => checkFileName(bad), InvalidProgramError, JSON.stringify(bad));
    }
    for (const good of ['main.py', 'main', '-c', 'data.v2.json', 'é.txt']) checkFileName(good);
  });
  it('rejects duplicates and decodes base64', () => {
    assert.throws(() => decodeFiles([{ name: 'a', content: '', encoding: 'utf8' }, { name: 'a', content: '', encoding: 'utf8' }]), /duplicate/);
    assert.throws(() => decodeFiles([]), /no files/);
    const [f] = decodeFiles([{ name: 'b', content: Buffer.from([0, 255]).toString('base64'), encoding: 'base64' }]);
    assert.deepEqual([...f!.data], [0, 255]);
  });
  it('writes read-only files into a fresh directory and removes it', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'crucible-spec-test-'));
    try {
      const dir = await createCodeDir([{ name: 'main.py', content: 'print(1)', encoding: 'utf8' }], parent);
      assert.equal((await stat(dir.path)).mode & 0o777, 0o555);
      assert.equal((await stat(join(dir.path, 'main.py'))).mode & 0o777, 0o444);
      await dir[Symbol.asyncDispose]();
      assert.deepEqual(await readdir(parent), []);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe('reapCodeDirs', () => {
  it('removes only stale code directories', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'crucible-reap-test-'));
    try {
      const stale = await createCodeDir([{ name: 'a', content: '', encoding: 'utf8' }], parent);
      const fresh = await createCodeDir([{ name: 'a', content: '', encoding: 'utf8' }], parent);
      await mkdir(join(parent, 'unrelated'));
      const old = new Date(Date.now() - 3_600_000);
      await utimes(stale.path, old, old);
      await utimes(join(parent, 'unrelated'), old, old);
      assert.deepEqual(await reapCodeDirs(60_000, parent), [stale.path]);
      assert.deepEqual((await readdir(parent)).sort(), [fresh.path.slice(parent.length + 1), 'unrelated'].sort());
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe('runtime catalog', () => {
  it('reads the python runtime', async () => {
    const catalog = await loadRuntimeCatalog();
    const python = catalog.find((r) => r.id === 'python');
    assert.ok(python);
    assert.equal(python.mainFile, 'main.py');
    assert.match(python.image, /^crucible\/python:[0-9a-f]{12}$/);
    assert.ok(python.packages.includes('python3'));
  });

  it('reads every runtime the issue asks for, compiled ones with a compile step and their own limits', async () => {
    const catalog = await loadRuntimeCatalog();
    assert.deepEqual(catalog.map((r) => r.id).sort(), ['bash', 'c', 'cpp', 'javascript-node', 'python', 'python-ml']);
    for (const id of ['c', 'cpp']) {
      const r = catalog.find((d) => d.id === id)!;
      assert.ok(r.compile && r.compile.command.join(' ').includes('/build/main'), id);
      assert.ok(r.compile.limits.timeoutMs && r.compile.limits.memoryMb, id);
      assert.deepEqual(r.run, ['/build/main']);
    }
    assert.equal(catalog.find((d) => d.id === 'python')!.compile, undefined);
  });

  it('hashes every definition exactly as build-images.sh does', async () => {
    const script = join(DEFAULT_RUNTIMES_DIR, 'build-images.sh');
    const fromScript = new Map(
      execFileSync('bash', [script, '--hashes'], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    const catalog = await loadRuntimeCatalog();
    assert.ok(catalog.length > 0);
    for (const r of catalog) assert.equal(r.hash, fromScript.get(r.id), r.id);
  });

  it('changes the hash when any file of the definition changes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crucible-catalog-test-'));
    try {
      await cp(DEFAULT_RUNTIMES_DIR, dir, { recursive: true });
      const before = (await loadRuntimeCatalog(dir)).find((r) => r.id === 'python')!;
      await chmod(join(dir, 'python', 'smoke.py'), 0o644);
      await writeFile(join(dir, 'python', 'smoke.py'), '# changed\nprint("OK")\n');
      const after = (await loadRuntimeCatalog(dir)).find((r) => r.id === 'python')!;
      assert.notEqual(after.hash, before.hash);
      assert.notEqual(after.image, before.image);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
