import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';

/** The bench platform's initial admin key (a fresh data folder each run, so always a first start). */
const BENCH_KEY = `crk_bench_${randomBytes(16).toString('hex')}`;

const ROOT = resolve(import.meta.dirname, '..');
const GATEWAY = join(ROOT, 'gateway/dist/main.js');

/** The part of the API's `Evaluation` the bench checks and times. */
export interface Evaluation {
  id: string;
  status: string;
  outcome: string | null;
  stdout: string;
  error: string | null;
  durationMs: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** An evaluation with the client's own clock around the request, epoch ms. */
export interface TimedEvaluation {
  evaluation: Evaluation;
  sentAt: number;
  receivedAt: number;
}

export interface PlatformOptions {
  dockerHost: string;
  redisUrl: string;
  agents: number;
  agentConcurrency: number;
}

/**
 * The whole platform as `./crucible up` runs it (compiled gateway, embedded scheduler, agent
 * processes), on a free 127.0.0.1 port with its own data folder and Redis prefix, so a bench run
 * never touches a running platform's state.
 */
export class BenchPlatform implements AsyncDisposable {
  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
    private readonly dataDir: string,
    private readonly prefix: string,
    private readonly redisUrl: string,
  ) {}

  /** Compiles everything (`tsc -b`, incremental): the bench measures the code as it is now. */
  static async build(): Promise<void> {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    await promisify(execFile)(process.execPath, [tsc, '-b'], { cwd: ROOT }).catch((err: { stdout?: string; message: string }) => {
      throw new Error(`tsc -b failed:\n${err.stdout || err.message}`);
    });
  }

  static async start(opts: PlatformOptions): Promise<BenchPlatform> {
    const dataDir = mkdtempSync(join(tmpdir(), 'crucible-bench-'));
    const prefix = `crucible-bench-${randomBytes(4).toString('hex')}`;
    const child = spawn(process.execPath, [GATEWAY], {
      cwd: ROOT,
      env: {
        ...process.env,
        CRUCIBLE_PORT: '0',
        CRUCIBLE_HOST: '127.0.0.1',
        CRUCIBLE_DATA_DIR: dataDir,
        CRUCIBLE_REDIS_PREFIX: prefix,
        REDIS_URL: opts.redisUrl,
        CRUCIBLE_AGENTS: String(opts.agents),
        CRUCIBLE_AGENT_CONCURRENCY: String(opts.agentConcurrency),
        CRUCIBLE_LOG_LEVEL: 'warn',
        DOCKER_HOST: opts.dockerHost,
        // The bench measures the platform, not its rate limits: budgets it cannot reach.
        CRUCIBLE_ADMIN_KEY: BENCH_KEY,
        CRUCIBLE_RATE_SUBMIT_BURST: '1000000',
        CRUCIBLE_RATE_SUBMIT_PER_SECOND: '100000',
        CRUCIBLE_RATE_READ_BURST: '1000000',
        CRUCIBLE_RATE_READ_PER_SECOND: '100000',
        CRUCIBLE_MAX_ACTIVE_EVALUATIONS: '1000000',
      },
      // Warnings go to the bench's stderr, so stdout stays the pasteable report.
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`platform did not start within 60 s: ${out}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Crucible is up: (http:\/\/\S+?)\/?\n/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolveUrl(m[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`platform exited with ${code} before it was up: ${out}`));
      });
    }).catch(async (err: unknown) => {
      await new BenchPlatform('', child, dataDir, prefix, opts.redisUrl).close();
      throw err;
    });
    return new BenchPlatform(url, child, dataDir, prefix, opts.redisUrl);
  }

  /** The platform's admin API key. */
  get key(): string {
    return BENCH_KEY;
  }

  /** Waits until agents report every language available; throws with their reasons otherwise. */
  async waitForLanguages(ids: readonly string[], ms = 120_000): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      const res = await fetch(`${this.url}/v1/languages`, { signal: AbortSignal.timeout(10_000) });
      const langs = (await res.json()) as { id: string; available: boolean; reason?: string }[];
      const missing = ids.map((id) => langs.find((l) => l.id === id) ?? { id, available: false, reason: 'unknown language' }).filter((l) => !l.available);
      if (missing.length === 0) return;
      if (Date.now() > until) throw new Error(`languages unavailable: ${missing.map((l) => `${l.id} (${l.reason})`).join(', ')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Submits with `?wait=60` (201 with the terminal evaluation) and checks it printed exactly
   * "1\n": a platform error that returns fast must fail the bench, not improve its figures.
   */
  async evaluate(body: { language: string; code: string }): Promise<TimedEvaluation> {
    const sentAt = Date.now();
    const res = await fetch(`${this.url}/v1/evaluations?wait=60`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(70_000),
    });
    const text = await res.text();
    const receivedAt = Date.now();
    if (res.status !== 201) throw new Error(`POST /v1/evaluations: expected 201, got ${res.status}: ${text}`);
    const evaluation = JSON.parse(text) as Evaluation;
    if (evaluation.status !== 'completed' || evaluation.outcome !== 'success' || evaluation.stdout !== '1\n') {
      throw new Error(`${body.language} evaluation ${evaluation.id} did not print 1: ${text}`);
    }
    return { evaluation, sentAt, receivedAt };
  }

  /** Stops the platform as Ctrl-C would, then removes its data folder and Redis keys. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = once(this.child, 'exit');
      this.child.kill('SIGTERM');
      // The scheduler gives agents a shutdown grace; past that, do not leave a process behind.
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
    await deleteKeys(this.redisUrl, this.prefix);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Deletes every `<prefix>:*` key (scheduler/README.md "Redis keys"); SCAN, never KEYS. */
async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
