// The container sandbox against the real Docker engine: the shared conformance suite (runc and
// runsc), then lifecycle, engine faults, reaping and speed. Attacks on the limits are in
// container-escape.test.ts. Needs DOCKER_HOST (default unix:///run/crucible/docker.sock); the
// python image is built first if missing (about 30 s), and a missing engine fails loudly.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { DEFAULT_LIMITS, type Limits, type SourceFile } from '@crucible/storage/domain';
import { PlatformError, type RunRequest } from '../src/sandbox/sandbox.js';
import { ContainerSandbox, DEFAULT_RUNTIMES_DIR, LABELS, loadRuntimeCatalog, reapOrphans } from '../src/sandbox/container/index.js';
import { sandboxConformance } from './sandbox-conformance.js';

const DOCKER_HOST = process.env.DOCKER_HOST || 'unix:///run/crucible/docker.sock';
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, ''), host: undefined });
const run$ = promisify(execFile);
const AGENT = `test-agent-${process.pid}`;

let built: Promise<void> | undefined;
/** Builds the runtime images if missing; fast when they are current. */
function buildImages(): Promise<void> {
  built ??= run$('bash', [join(DEFAULT_RUNTIMES_DIR, 'build-images.sh')], {
    env: { ...process.env, DOCKER_HOST },
    maxBuffer: 64 * 1024 * 1024,
  }).then(
    () => undefined,
    (err: { stderr?: string; message: string }) => {
      throw new Error(`building the runtime images failed (is Docker running at ${DOCKER_HOST}?): ${err.stderr || err.message}`);
    },
  );
  return built;
}

async function leftovers(label: string): Promise<string[]> {
  const found = await docker.listContainers({ all: true, filters: { label: [label] } });
  return found.map((c) => c.Id);
}

const programs = {
  language: 'python',
  hello: 'print(42)',
  echoStdin: 'import sys\nsys.stdout.write(sys.stdin.read())',
  exitThree: 'import sys\nprint("oops", file=sys.stderr)\nsys.exit(3)',
  spin: 'while True:\n    pass',
  printThenSpin: 'print(42, flush=True)\nwhile True:\n    pass',
  flood: 'import sys\nwhile True:\n    sys.stdout.write("x" * 4096)',
  controls: 'import sys\nsys.stdout.write("a\\0b\\x1b[0m\\r\\n")',
};

sandboxConformance(
  'container python (runc)',
  async () => {
    await buildImages();
    return new ContainerSandbox({ docker: DOCKER_HOST, agentId: AGENT });
  },
  programs,
);

sandboxConformance(
  'container python (runsc)',
  async () => {
    await buildImages();
    return new ContainerSandbox({ docker: DOCKER_HOST, agentId: AGENT, runtime: 'runsc' });
  },
  programs,
);

describe('ContainerSandbox', () => {
  let sandbox: ContainerSandbox;
  let codeParent: string;
  let n = 0;
  const request = (files: SourceFile[] | string, extra: Partial<RunRequest> = {}, limits: Partial<Limits> = {}): RunRequest => ({
    evaluationId: `cs-${process.pid}-${++n}`,
    language: 'python',
    files: typeof files === 'string' ? [{ name: 'main.py', content: files, encoding: 'utf8' }] : files,
    stdin: '',
    args: [],
    limits: { ...DEFAULT_LIMITS, timeoutMs: 5000, ...limits },
    ...extra,
  });

  before(async () => {
    await buildImages();
    codeParent = await mkdtemp(join(tmpdir(), 'crucible-cs-test-'));
    await chmod(codeParent, 0o711);
    sandbox = new ContainerSandbox({ docker: DOCKER_HOST, agentId: AGENT, codeDirParent: codeParent });
    await sandbox.init();
  });
  after(async () => {
    await sandbox?.[Symbol.asyncDispose]();
    await rm(codeParent, { recursive: true, force: true });
  });

  it('reports the runtime version from the image', () => {
    const python = sandbox.languages().find((l) => l.id === 'python');
    assert.equal(python?.available, true);
    assert.match(python.version, /^3\.\d+\.\d+$/);
    assert.equal(python.runtime, 'container');
  });

  it('runs the runtime smoke test through the sandbox', async () => {
    const [python] = (await loadRuntimeCatalog()).filter((r) => r.id === 'python');
    const content = await readFile(join(python!.dir, python!.smoke), 'utf8');
    const r = await sandbox.run(request(content));
    assert.equal(r.stdout, 'OK\n', r.stderr);
  });

  it('removes the container and the code directory after every run', async () => {
    const req = request('print("bye")');
    const r = await sandbox.run(req);
    assert.equal(r.outcome, 'success');
    assert.deepEqual(await leftovers(`${LABELS.evaluation}=${req.evaluationId}`), []);
    assert.deepEqual(await readdir(codeParent), []);
  });

  it('runs several files, with args, the main file first whatever the order', async () => {
    const r = await sandbox.run(
      request(
        [
          { name: 'helper.py', content: 'def greet(n):\n    return "hi " + n\n', encoding: 'utf8' },
          { name: 'main.py', content: 'import sys, helper\nprint(helper.greet(sys.argv[1]), open("data.bin","rb").read())', encoding: 'utf8' },
          { name: 'data.bin', content: Buffer.from([1, 2, 255]).toString('base64'), encoding: 'base64' },
        ],
        { args: ['there'] },
      ),
    );
    assert.equal(r.stdout, "hi there b'\\x01\\x02\\xff'\n", r.stderr);
  });

  it('delivers a large stdin in full', async () => {
    const input = 'line of input\n'.repeat(20_000);
    const r = await sandbox.run(request('import sys\ndata = sys.stdin.read()\nprint(len(data))', { stdin: input }));
    assert.equal(r.stdout, `${input.length}\n`, r.stderr);
  });

  it('ends a program that waits on stdin with EOF', async () => {
    const r = await sandbox.run(request('import sys\nprint(repr(sys.stdin.read()))'));
    assert.equal(r.stdout, "''\n");
  });

  it('caps stderr separately', async () => {
    const r = await sandbox.run(request('import sys\nprint("fine")\nwhile True:\n    sys.stderr.write("e" * 1000)', {}, { outputBytes: 2048 }));
    assert.equal(r.outcome, 'output_limit');
    assert.equal(r.stderrTruncated, true);
    assert.equal(r.stdoutTruncated, false);
    assert.equal(r.stdout, 'fine\n');
    assert.equal(Buffer.byteLength(r.stderr), 2048);
  });

  it('calls onStart once the program starts, before it ends', async () => {
    const events: string[] = [];
    const r = await sandbox.run(
      request('print("out")', { onStart: () => events.push('start'), onOutput: () => events.push('output') }),
    );
    assert.equal(r.outcome, 'success');
    assert.equal(events[0], 'start');
    assert.ok(events.includes('output'));
  });

  it('survives a throwing onOutput: the run rejects with its error, the container is removed', async () => {
    const req = request('print("x")', {
      onOutput: () => {
        throw new Error('listener bug');
      },
    });
    await assert.rejects(sandbox.run(req), /listener bug/);
    assert.deepEqual(await leftovers(`${LABELS.evaluation}=${req.evaluationId}`), []);
  });

  it('reports an uncaught exception as error with the traceback', async () => {
    const r = await sandbox.run(request('raise ValueError("bad")'));
    assert.equal(r.outcome, 'error');
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /ValueError: bad/);
  });

  it('reports a program killed by a signal it did not get from us as its own end, status as seen', async () => {
    const segv = await sandbox.run(request('import ctypes\nctypes.string_at(0)'));
    assert.equal(segv.outcome, 'error');
    assert.deepEqual([segv.exitCode, segv.signal], [139, null]);
    // Issue 12: a program that kills itself, or just exits 137, is not "killed": the platform did not.
    const selfKill = await sandbox.run(request('import os, signal\nos.kill(os.getpid(), signal.SIGKILL)'));
    assert.deepEqual([selfKill.outcome, selfKill.exitCode, selfKill.signal], ['error', 137, null]);
    const forged = await sandbox.run(request('import sys\nsys.exit(137)'));
    assert.deepEqual([forged.outcome, forged.exitCode, forged.signal], ['error', 137, null]);
  });

  it('rejects a file name that leaves the code directory, creating no container', async () => {
    const req = request([{ name: '../evil.py', content: 'print(1)', encoding: 'utf8' }]);
    const r = await sandbox.run(req);
    assert.equal(r.outcome, 'error');
    assert.match(r.stderr, /invalid file name/);
    assert.deepEqual(await leftovers(`${LABELS.evaluation}=${req.evaluationId}`), []);
  });

  it('refuses limits too small for any container as a program error', async () => {
    const r = await sandbox.run(request('print(1)', {}, { memoryMb: 1 }));
    assert.equal(r.outcome, 'error');
    assert.match(r.stderr, /memoryMb must be at least/);
  });

  it('returns killed at once for a request aborted before it starts', async () => {
    const r = await sandbox.run(request('print(1)', { signal: AbortSignal.abort() }));
    assert.equal(r.outcome, 'killed');
  });

  it('runs several evaluations at once', async () => {
    const rs = await Promise.all([1, 2, 3, 4].map((i) => sandbox.run(request(`print(${i} * 10)`))));
    assert.deepEqual(
      rs.map((r) => r.stdout),
      ['10\n', '20\n', '30\n', '40\n'],
    );
  });

  it('rejects an unknown language as a platform fault', async () => {
    await assert.rejects(sandbox.run({ ...request('x'), language: 'cobol' }), PlatformError);
  });

  it('kills live runs on dispose and leaves nothing behind', async () => {
    const own = new ContainerSandbox({ docker: DOCKER_HOST, agentId: `${AGENT}-dispose` });
    await own.init();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const result = own.run(request('while True:\n    pass', { onStart: () => started() }, { timeoutMs: 30_000 }));
    await running;
    await own[Symbol.asyncDispose]();
    assert.equal((await result).outcome, 'killed');
    assert.deepEqual(await leftovers(`${LABELS.agent}=${AGENT}-dispose`), []);
    await assert.rejects(own.run(request('print(1)')), PlatformError);
  });
});

describe('ContainerSandbox without a usable engine or image', () => {
  it('reports the engine unreachable, without throwing', async () => {
    const sb = new ContainerSandbox({ docker: 'unix:///nonexistent/docker.sock', agentId: AGENT });
    await sb.init();
    const [python] = sb.languages();
    assert.equal(python?.available, false);
    assert.match(python.reason ?? '', /^Docker engine not reachable at unix:\/\/\/nonexistent\/docker\.sock/);
    await assert.rejects(
      sb.run({ evaluationId: 'x', language: 'python', files: [], stdin: '', args: [], limits: DEFAULT_LIMITS }),
      PlatformError,
    );
  });

  it('reports an image not built for the current definition', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'crucible-runtimes-test-'));
    try {
      await cp(DEFAULT_RUNTIMES_DIR, dir, { recursive: true });
      await chmod(join(dir, 'python', 'smoke.py'), 0o644);
      await writeFile(join(dir, 'python', 'smoke.py'), 'print("OK")  # a changed definition\n');
      const sb = new ContainerSandbox({ docker: DOCKER_HOST, agentId: AGENT, runtimesDir: dir });
      await sb.init();
      const python = sb.languages().find((l) => l.id === 'python');
      assert.equal(python?.available, false);
      assert.match(python.reason ?? '', /^image crucible\/python:[0-9a-f]{12} not built: run \.\/crucible up$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('reapOrphans', () => {
  before(buildImages);

  it('removes containers past their deadline, and all of a named agent', async () => {
    const image = (await loadRuntimeCatalog()).find((r) => r.id === 'python')!.image;
    const agent = `${AGENT}-reap`;
    const make = (deadline: number) =>
      docker.createContainer({
        Image: image,
        Cmd: ['true'],
        Labels: { [LABELS.managed]: 'true', [LABELS.agent]: agent, [LABELS.deadline]: String(deadline) },
        HostConfig: { NetworkMode: 'none' },
      });
    const stale = await make(Date.now() - 1000);
    const fresh = await make(Date.now() + 600_000);
    try {
      const reaped = await reapOrphans(docker);
      assert.ok(reaped.includes(stale.id));
      assert.ok(!reaped.includes(fresh.id));
      assert.deepEqual(await reapOrphans(docker, agent), [fresh.id]);
      assert.deepEqual(await leftovers(`${LABELS.agent}=${agent}`), []);
    } finally {
      await Promise.all([stale, fresh].map((c) => c.remove({ force: true }).catch(() => undefined)));
    }
  });
});

describe('engine runtime per request', () => {
  it('runs a request under runsc when allowed, and refuses a weaker runtime than configured', async () => {
    await buildImages();
    const run = (sb: ContainerSandbox, containerRuntime: 'runc' | 'runsc') =>
      sb.run({
        evaluationId: `rt-${process.pid}-${containerRuntime}`,
        language: 'python',
        files: [{ name: 'main.py', content: 'import os\nprint(os.uname().release)', encoding: 'utf8' }],
        stdin: '',
        args: [],
        limits: { ...DEFAULT_LIMITS, timeoutMs: 10_000 },
        containerRuntime,
      });
    const defaultRunc = new ContainerSandbox({ docker: DOCKER_HOST, agentId: AGENT });
    const onlyRunsc = new ContainerSandbox({ docker: DOCKER_HOST, agentId: AGENT, runtime: 'runsc', allowedRuntimes: ['runsc'] });
    try {
      await Promise.all([defaultRunc.init(), onlyRunsc.init()]);
      const gvisor = await run(defaultRunc, 'runsc');
      assert.equal(gvisor.stdout, '4.4.0\n', 'gVisor reports its own kernel release');
      const refused = await run(onlyRunsc, 'runc');
      assert.equal(refused.outcome, 'error');
      assert.match(refused.stderr, /containerRuntime runc is not allowed here \(allowed: runsc\)/);
    } finally {
      await Promise.all([defaultRunc[Symbol.asyncDispose](), onlyRunsc[Symbol.asyncDispose]()]);
    }
  });
});
