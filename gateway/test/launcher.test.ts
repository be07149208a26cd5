import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { describe, it } from 'node:test';
import { openStorage } from '@crucible/storage';
import { freePort } from './own-services.js';

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

/** The command name of a process, from /proc. */
const commandOf = (pid: number): string => {
  try {
    return execFileSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

const portOpen = (port: number) =>
  new Promise<boolean>((ok) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => (socket.destroy(), ok(true)));
    socket.once('error', () => ok(false));
  });

/** The initial admin key the launched platform is given (first start). */
const KEY = `crk_launcher_${randomBytes(12).toString('hex')}`;

/** The URL `./crucible up` prints once the platform is up; rejects if it exits first or takes over 4 min. */
function upUrl(child: ChildProcess, out: () => string): Promise<string> {
  return new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`not up in time:\n${out()}`)), 240_000);
    child.stdout!.on('data', () => {
      const m = /Crucible is up: (http:\/\/\S+?)\/?\n/.exec(out());
      if (m) (clearTimeout(timer), ok(m[1]!));
    });
    child.once('exit', (code) => fail(new Error(`launcher exited ${code}:\n${out()}`)));
  });
}

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
      const url = await upUrl(child, () => out);
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

  it('on Ctrl-C (SIGINT to its whole process group) lets a running evaluation finish, then stops agents, then its own Redis', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'crucible-up-'));
    // A port where nothing listens: the launcher starts (and owns) a redis-server there. Docker is
    // the machine's shared engine, which the launcher finds and must leave running.
    const redisPort = await freePort();
    const key = `crk_launcher_${randomBytes(12).toString('hex')}`;
    // detached: its own process group, as a terminal's foreground job is.
    const child = spawn(join(ROOT, 'crucible'), ['up'], {
      cwd: ROOT,
      detached: true,
      env: {
        ...process.env,
        CRUCIBLE_PORT: '0',
        CRUCIBLE_DATA_DIR: dataDir,
        CRUCIBLE_REDIS_PORT: String(redisPort),
        CRUCIBLE_REDIS_PREFIX: `crucible-up-${randomBytes(3).toString('hex')}`,
        CRUCIBLE_LOG_LEVEL: 'warn',
        CRUCIBLE_ADMIN_KEY: key,
        CRUCIBLE_AGENTS: '1',
        // Generous, so the evaluation below finishes within it however loaded the machine is.
        CRUCIBLE_SHUTDOWN_GRACE_MS: '60000',
        REDIS_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    const exited = once(child, 'exit');
    try {
      const url = await upUrl(child, () => out);
      const redis = descendants(child.pid!).find((pid) => commandOf(pid) === 'redis-server');
      assert.ok(redis, `the launcher started its own redis-server:\n${out}`);
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        return { status: res.status, json: (await res.json()) as Record<string, any> };
      };
      // A container evaluation (the engine must outlive it) that runs a few seconds.
      let id = '';
      for (let i = 0; i < 600 && !id; i++) {
        const langs = (await (await fetch(`${url}/v1/languages`)).json()) as { id: string; available: boolean }[];
        if (!langs.find((l) => l.id === 'python')?.available) {
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const res = await api('POST', '/v1/evaluations', { language: 'python', code: 'import time\nprint("started", flush=True)\ntime.sleep(4)\nprint("finished")', limits: { timeoutMs: 30_000 } });
        assert.equal(res.status, 202, JSON.stringify(res.json));
        id = res.json.id;
      }
      assert.ok(id, 'python never became available');
      for (let i = 0; i < 600; i++) {
        if ((await api('GET', `/v1/evaluations/${id}`)).json.status === 'running') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((await api('GET', `/v1/evaluations/${id}`)).json.status, 'running');

      const spawned = descendants(child.pid!);
      process.kill(-child.pid!, 'SIGINT'); // what Ctrl-C does: the whole foreground group
      await exited;
      assert.equal(alive(redis), false, 'the redis-server it started is gone');
      assert.equal(await portOpen(redisPort), false, 'nothing listens on its Redis port any more');
      assert.deepEqual(spawned.filter(alive), [], 'nothing it started is left running');

      // The evaluation ended by itself, in storage, before anything it needed was stopped.
      await using storage = await openStorage({ dataDir });
      const e = await storage.evaluations.get(id);
      assert.equal(e?.status, 'completed', `${JSON.stringify(e)}\n${out}`);
      assert.equal(e?.outcome, 'success', JSON.stringify(e));
      assert.equal(e?.stdout, 'started\nfinished\n');
      // The shared engine it did not start still answers.
      execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { env: { ...process.env, DOCKER_HOST: process.env.DOCKER_HOST ?? 'unix:///run/crucible/docker.sock' } });
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
