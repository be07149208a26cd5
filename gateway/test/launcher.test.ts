import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');

/** Process ids of every descendant of `pid`, found through /proc. */
function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of out.trim().split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number) as [number, number];
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const all: number[] = [];
  const walk = (p: number) => (children.get(p) ?? []).forEach((c) => (all.push(c), walk(c)));
  walk(pid);
  return all;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The initial admin key the launched platform is given (first start). */
const KEY = `crk_launcher_${randomBytes(12).toString('hex')}`;

describe('./crucible up (the launcher, running the built platform)', () => {
  it('starts the platform, serves evaluations, and stops everything it started on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crucible-up-'));
    const child = spawn(join(ROOT, 'crucible'), ['up'], {
      cwd: ROOT,
      env: { ...process.env, CRUCIBLE_PORT: '0', CRUCIBLE_DATA_DIR: dataDir, CRUCIBLE_REDIS_PREFIX: `crucible-up-${randomBytes(3).toString('hex')}`, CRUCIBLE_LOG_LEVEL: 'warn', CRUCIBLE_ADMIN_KEY: KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    try {
      const url = await new Promise<string>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`not up in time:\n${out}`)), 240_000);
        const check = () => {
          const m = /Crucible is up: (http:\/\/\S+?)\/?\n/.exec(out);
          if (m) (clearTimeout(timer), ok(m[1]!));
        };
        child.stdout!.on('data', check);
        child.once('exit', (code) => fail(new Error(`launcher exited ${code}:\n${out}`)));
      });
      // The built (dist) platform runs the same path as the source one the other tests use.
      let evaluation: any;
      for (let i = 0; i < 100; i++) {
        const res = await fetch(`${url}/v1/evaluations?wait=30`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
          body: JSON.stringify({ language: 'javascript', code: 'console.log(6*7)' }),
        });
        evaluation = await res.json();
        if (res.status === 201) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(evaluation.stdout, '42\n');
      const spawned = descendants(child.pid!);
      assert.ok(spawned.length >= 2, 'gateway and agents run under the launcher');

      child.kill('SIGTERM');
      await once(child, 'exit');
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(spawned.filter(alive), [], 'nothing it started is left running');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
