import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { terminal, waitForStdout } from './event-stream.js';
import { Platform } from './platform.js';

/**
 * Per-user kernel budgets are per sandbox: one evaluation hoards every resource the kernel counts
 * per user (or per user up the user-namespace hierarchy, i.e. also for host root) while a second
 * evaluation, on the same agent at the same time, and the host's root take a little of each.
 * What the second evaluation gets must be exactly what it gets while nobody hoards, and the host
 * must get everything. The two-evaluation concurrency does not fit the corpus format, hence this
 * dedicated test; the hoarder is executor-agent/test/hoarders/kernel-budgets.py.
 */
const HOARDER = resolve(import.meta.dirname, '../../executor-agent/test/hoarders/kernel-budgets.py');
const run = promisify(execFile);

/** What one sandbox may take at most under runc (container-spec.ts SANDBOX_RLIMITS, seccomp.json). */
const RUNC_BOUNDS: Record<string, number> = {
  'inotify instances': 0, // seccomp: ENOSYS
  'posix message queues': 0, // msgqueue rlimit 0
  'pending signals': 128, // sigpending rlimit
  'locked memory pages': 4, // memlock 16 KiB
  keys: 0, // seccomp
  'user namespaces': 0, // seccomp
  'aio contexts': 0, // seccomp: ENOSYS
};

for (const runtime of ['runc', 'runsc'] as const) {
  describe(`kernel budgets on ${runtime}`, () => {
    let p: Platform;
    let code: string;
    const submit = (args: string[], timeoutMs = 30_000) =>
      p.request('POST', '/v1/evaluations?wait=60', { language: 'python', files: [{ name: 'main.py', content: code }], args, limits: { timeoutMs } });
    const use = async () => {
      const res = await submit(['use']);
      assert.equal(res.status, 201, res.text);
      assert.equal(res.json.outcome, 'success', JSON.stringify(res.json));
      return JSON.parse(res.json.stdout.trim().split('\n').pop()) as Record<string, string>;
    };

    before(async () => {
      code = await readFile(HOARDER, 'utf8');
      // One agent with two slots: the hoarder and the user run side by side, as on a busy node.
      p = await Platform.start({ env: { CRUCIBLE_AGENTS: '1', CRUCIBLE_AGENT_CONCURRENCY: '2', CRUCIBLE_CONTAINER_RUNTIME: runtime } });
      await p.waitForLanguage('python', 180_000);
    });
    after(async () => p?.[Symbol.asyncDispose]());

    it('one evaluation hoarding every per-user resource denies nothing to another evaluation or to host root', async () => {
      const baseline = await use();
      const hostBaseline = await host();
      assert.ok(Object.values(hostBaseline).every((v) => v === 'ok'), `the host itself cannot use: ${JSON.stringify(hostBaseline)}`);

      const submitted = await p.request('POST', '/v1/evaluations', {
        language: 'python',
        files: [{ name: 'main.py', content: code }],
        // Under gVisor forked processes are sentry tasks whose host threads the pids cgroup bounds: a
        // hoard of them takes the whole sandbox down (the corpus's fork bombs cover that), so there
        // the hoarder keeps to the other resources.
        args: ['hoard', runtime === 'runsc' ? '0' : '100000'],
        limits: { timeoutMs: 30_000 },
      });
      assert.equal(submitted.status, 202, submitted.text);
      const id = submitted.json.id as string;
      try {
        const hoarded = JSON.parse((await waitForStdout(p, id, /^HOARDING (.*)\n/m))[1]!) as Record<string, unknown>;
        // While it holds everything it took:
        const during = await use();
        const hostDuring = await host();
        const status = (await p.request('GET', `/v1/evaluations/${id}`)).json.status;
        assert.equal(status, 'running', 'the hoarder still held its resources while the others ran');
        assert.deepEqual(during, baseline, `a concurrent evaluation was denied something (hoarder took ${JSON.stringify(hoarded)})`);
        assert.deepEqual(hostDuring, hostBaseline, `host root was denied something (hoarder took ${JSON.stringify(hoarded)})`);
        if (runtime === 'runc') {
          for (const [name, most] of Object.entries(RUNC_BOUNDS)) {
            assert.ok(typeof hoarded[name] === 'number' && hoarded[name] <= most, `${name}: one sandbox took ${String(hoarded[name])}, more than ${most}`);
          }
        }
      } finally {
        await p.request('POST', `/v1/evaluations/${id}/cancel`);
      }
      await terminal(p, id);
      const benign = await p.run({ language: 'python', code: 'print("still fine")' }, 30);
      assert.equal(benign.stdout, 'still fine\n', JSON.stringify(benign));
    });
  });
}

/** The same "use" from the host, as root (the test process's user). */
async function host(): Promise<Record<string, string>> {
  const { stdout } = await run('python3', [HOARDER, 'host'], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, string>;
}
