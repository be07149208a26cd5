// Hostile programs against the container sandbox on the real engine: each tries to break one
// limit or boundary, and must be contained. Every test also checks that no container with its
// evaluation's label is left. Needs DOCKER_HOST (default unix:///run/crucible/docker.sock).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import Docker from 'dockerode';
import { DEFAULT_LIMITS, type Limits, type RunResult } from '@crucible/storage/domain';
import { ContainerSandbox, DEFAULT_RUNTIMES_DIR, LABELS } from '../src/sandbox/container/index.js';

const DOCKER_HOST = process.env.DOCKER_HOST || 'unix:///run/crucible/docker.sock';
const docker = new Docker({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, ''), host: undefined });

describe('container sandbox under attack', () => {
  let sandbox: ContainerSandbox;
  let n = 0;

  before(async () => {
    // Fast when the image is current; a missing engine makes this, and so every test, fail.
    await promisify(execFile)('bash', [join(DEFAULT_RUNTIMES_DIR, 'build-images.sh')], { env: { ...process.env, DOCKER_HOST } });
    sandbox = new ContainerSandbox({ docker: DOCKER_HOST, agentId: `escape-test-${process.pid}` });
    await sandbox.init();
    assert.equal(sandbox.languages().find((l) => l.id === 'python')?.available, true);
  });
  after(() => sandbox?.[Symbol.asyncDispose]());

  /** Runs a python program; asserts that its container is gone afterwards. */
  async function attack(code: string, limits: Partial<Limits> = {}): Promise<RunResult> {
    const evaluationId = `escape-${process.pid}-${++n}`;
    const r = await sandbox.run({
      evaluationId,
      language: 'python',
      files: [{ name: 'main.py', content: code, encoding: 'utf8' }],
      stdin: '',
      args: [],
      limits: { ...DEFAULT_LIMITS, timeoutMs: 5000, ...limits },
    });
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.evaluation}=${evaluationId}`] } });
    assert.deepEqual(left, [], 'no container left behind');
    return r;
  }
  const json = (r: RunResult): Record<string, unknown> => {
    assert.equal(r.outcome, 'success', r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  it('a memory bomb ends as memory_limit', async () => {
    const r = await attack('chunks = []\nwhile True:\n    chunks.append("x" * (1 << 20))', { memoryMb: 64 });
    assert.equal(r.outcome, 'memory_limit', r.stderr);
    assert.equal(r.signal, 'SIGKILL');
  });

  it('process creation stops at the pids limit, and the sleeping children die with the program', async () => {
    const r = await attack(
      [
        'import os, time, json',
        'n = 0',
        'try:',
        '    while True:',
        '        if os.fork() == 0:',
        '            time.sleep(60)',
        '            os._exit(0)',
        '        n += 1',
        'except OSError as e:',
        '    print(json.dumps({"forked": n, "errno": e.errno}))',
      ].join('\n'),
      { pids: 16, timeoutMs: 20_000 },
    );
    const out = json(r);
    assert.ok((out.forked as number) < 16, `forked ${out.forked}`);
    // Children sleeping 60 s would hold a sandbox that waits for them until its 20 s deadline:
    // judged by the sandbox's own outcome and durationMs (slack for a loaded host), not a clock here.
    assert.equal(r.outcome, 'success', r.stderr);
    assert.ok(r.durationMs < 15_000, `ran ${r.durationMs} ms: the sleeping children outlived the program`);
  });

  it('a fork bomb is contained and ends at the deadline', async () => {
    const r = await attack('import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass', { pids: 16, timeoutMs: 2000 });
    assert.equal(r.outcome, 'timeout');
    assert.ok(r.durationMs >= 2000 - 100 && r.durationMs <= 2000 + 5000, `ran ${r.durationMs} ms, deadline 2000 ms`);
    // Read from the container's pids cgroup while it ran: what makes this a `pids` kill in metrics.
    assert.equal(r.pidsLimitHit, true);
  });

  it('a program that stays under its pids limit is not flagged, even with a few children', async () => {
    const r = await attack('import subprocess\nfor _ in range(3): subprocess.run(["true"])\nprint("ok")', { pids: 16 });
    assert.equal(r.outcome, 'success', r.stderr);
    assert.equal(r.pidsLimitHit, undefined);
  });

  it('has no network: only loopback, no route, connections fail', async () => {
    // The external address is tried only once the route table has proved empty, so no packet can
    // leave even if the sandbox were broken.
    const r = await attack(
      [
        'import json, os, socket',
        'routes = open("/proc/net/route").read().strip().splitlines()[1:]',
        'out = {"ifaces": sorted(os.listdir("/sys/class/net")), "routes": routes, "errors": {}}',
        'targets = [("127.0.0.1", 80)] + ([("1.1.1.1", 53)] if not routes else [])',
        'for host, port in targets:',
        '    try:',
        '        socket.create_connection((host, port), timeout=2).close()',
        '        out["errors"][host] = None',
        '    except OSError as e:',
        '        out["errors"][host] = e.errno',
        'try:',
        '    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
        '    out["raw"] = "allowed"',
        'except OSError as e:',
        '    out["raw"] = e.errno',
        'print(json.dumps(out))',
      ].join('\n'),
    );
    const out = json(r) as { ifaces: string[]; routes: string[]; errors: Record<string, number | null>; raw: unknown };
    assert.deepEqual(out.ifaces, ['lo']);
    assert.deepEqual(out.routes, []);
    assert.ok(out.errors['127.0.0.1'], 'connect to 127.0.0.1 failed');
    assert.ok(out.errors['1.1.1.1'], 'connect to 1.1.1.1 failed');
    assert.notEqual(out.raw, 'allowed');
  });

  it('cannot write outside /tmp, /tmp is small, and nothing in /tmp can be executed', async () => {
    const r = await attack(
      [
        'import json, os, shutil, subprocess',
        'out = {}',
        'for path in ["/evil", "/code/evil", "/etc/passwd", "/usr/bin/python3"]:',
        '    try:',
        '        open(path, "a").write("x")',
        '        out[path] = "written"',
        '    except OSError as e:',
        '        out[path] = e.strerror',
        'open("/tmp/ok", "w").write("fine")',
        'out["tmp"] = open("/tmp/ok").read()',
        'try:',
        '    with open("/tmp/big", "wb") as f:',
        '        for _ in range(100):',
        '            f.write(b"\\0" * (1 << 20))',
        '    out["big"] = "written"',
        'except OSError as e:',
        '    out["big"] = e.strerror',
        'os.remove("/tmp/big")',
        'shutil.copy("/bin/true", "/tmp/true")',
        'os.chmod("/tmp/true", 0o755)',
        'try:',
        '    subprocess.run(["/tmp/true"])',
        '    out["exec"] = "ran"',
        'except OSError as e:',
        '    out["exec"] = e.strerror',
        'print(json.dumps(out))',
      ].join('\n'),
      { memoryMb: 256 },
    );
    const out = json(r);
    for (const path of ['/evil', '/code/evil', '/etc/passwd', '/usr/bin/python3']) assert.notEqual(out[path], 'written', path);
    assert.equal(out.tmp, 'fine');
    assert.notEqual(out.big, 'written');
    assert.notEqual(out.exec, 'ran');
  });

  it('runs as a pooled unprivileged uid with no capabilities, no-new-privileges and seccomp', async () => {
    const r = await attack(
      [
        'import ctypes, json, os',
        'status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())',
        'out = {k: status[k].strip() for k in ["Uid", "Gid", "CapEff", "CapPrm", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"]}',
        'try:',
        '    os.setuid(0)',
        '    out["setuid"] = "allowed"',
        'except OSError as e:',
        '    out["setuid"] = e.errno',
        'libc = ctypes.CDLL(None, use_errno=True)',
        'out["unshare_user"] = libc.unshare(0x10000000)  # CLONE_NEWUSER',
        'out["mount"] = libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)',
        'out["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())',
        'print(json.dumps(out))',
      ].join('\n'),
    );
    const out = json(r);
    // A uid of the host's pool (uid-pool.ts), the same for real, effective, saved and fs ids.
    assert.match(out.Uid as string, /^(2\d{4})\s+\1\s+\1\s+\1$/);
    assert.match(out.Gid as string, /^(2\d{4})\s+\1\s/);
    for (const cap of ['CapEff', 'CapPrm', 'CapBnd', 'CapAmb']) assert.equal(out[cap], '0000000000000000', cap);
    assert.equal(out.NoNewPrivs, '1');
    assert.equal(out.Seccomp, '2');
    assert.notEqual(out.setuid, 'allowed');
    assert.equal(out.unshare_user, -1);
    assert.equal(out.mount, -1);
    // Its own pid namespace: the init and the program, nothing of the host.
    assert.ok((out.pids as number[]).length <= 3, `sees pids ${String(out.pids)}`);
  });

  it('sees none of the host environment and no Docker socket', async () => {
    process.env.CRUCIBLE_TEST_SECRET = 'host-secret-value';
    try {
      const r = await attack(
        [
          'import json, os, socket',
          'print(json.dumps({"env": dict(os.environ), "host": socket.gethostname(),',
          '  "sockets": [p for p in ["/var/run/docker.sock", "/run/docker.sock", "/run/crucible"] if os.path.exists(p)]}))',
        ].join('\n'),
      );
      const out = json(r) as { env: Record<string, string>; host: string; sockets: string[] };
      assert.deepEqual(Object.keys(out.env).sort(), ['HOME', 'HOSTNAME', 'LANG', 'PATH']);
      assert.equal(out.env.HOME, '/tmp');
      assert.ok(!r.stdout.includes('host-secret-value'));
      assert.equal(out.host, 'sandbox');
      assert.deepEqual(out.sockets, []);
    } finally {
      delete process.env.CRUCIBLE_TEST_SECRET;
    }
  });

  it('a program ignoring SIGTERM still ends at the deadline', async () => {
    const r = await attack('import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass', {
      timeoutMs: 1000,
    });
    assert.equal(r.outcome, 'timeout');
    assert.ok(r.durationMs >= 1000 - 100 && r.durationMs <= 1000 + 5000, `ran ${r.durationMs} ms, deadline 1000 ms`);
  });

  it('a detached background process does not keep the evaluation running', async () => {
    const r = await attack(
      [
        'import os, subprocess, sys, time',
        'subprocess.Popen(["sleep", "60"])',
        'if os.fork() == 0:',
        '    os.setsid()',
        '    if os.fork() == 0:',
        '        time.sleep(60)  # a daemon, holding stdout open',
        '    os._exit(0)',
        'print("main done")',
      ].join('\n'),
      { timeoutMs: 20_000 },
    );
    assert.equal(r.outcome, 'success', r.stderr);
    assert.equal(r.stdout, 'main done\n');
    // Held by the daemon, it would have run to its 20 s deadline and timed out.
    assert.ok(r.durationMs < 15_000, `ran ${r.durationMs} ms`);
  });

  it('gets no more CPU time than its cpus limit', async () => {
    const r = await attack('import json, time\nend = time.monotonic() + 2\nwhile time.monotonic() < end:\n    pass\nprint(json.dumps({"cpu": time.process_time()}))', {
      cpus: 0.5,
    });
    const cpu = json(r).cpu as number;
    assert.ok(cpu < 1.4, `used ${cpu} s of CPU in 2 s with cpus 0.5`);
  });
});
