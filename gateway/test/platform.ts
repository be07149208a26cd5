import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';

const MAIN = resolve(import.meta.dirname, '../src/main.ts');

export interface PlatformOptions {
  env?: Record<string, string>;
  /** Reuse a data folder (to test restarts); a fresh temporary one otherwise. */
  dataDir?: string;
  /** Reuse a Redis prefix (to test restarts); a unique one otherwise. */
  prefix?: string;
  /** Keep the platform's stderr (its JSON logs and its agents') in `logs` instead of passing it through. */
  captureLogs?: boolean;
}

/**
 * Budgets so high that suites submitting thousands of evaluations are never throttled; the rate
 * limit tests set their own.
 */
const UNTHROTTLED: Record<string, string> = Object.fromEntries(
  ['SUBMIT', 'READ', 'AUTH'].flatMap((b) => [[`CRUCIBLE_RATE_${b}_BURST`, '1000000'], [`CRUCIBLE_RATE_${b}_PER_SECOND`, '100000']]),
);

/** The initial admin key of a platform: derived from its data folder, so a restart on the same data keeps it. */
export function adminKeyFor(dataDir: string): string {
  return `crk_test_${createHash('sha256').update(dataDir).digest('hex').slice(0, 32)}`;
}

/**
 * A whole platform (gateway + embedded scheduler + agent processes) started exactly as
 * `./crucible up` starts it, from source, on a free port with its own Redis prefix and data folder.
 */
export class Platform implements AsyncDisposable {
  readonly url: string;
  readonly dataDir: string;
  readonly prefix: string;
  /** The admin API key (CRUCIBLE_ADMIN_KEY at first start); `request` sends it unless told otherwise. */
  readonly adminKey: string;
  /** Everything the platform wrote to stderr, when started with `captureLogs`. */
  logs = '';
  private constructor(
    private readonly child: ChildProcess,
    url: string,
    dataDir: string,
    prefix: string,
    private readonly ownsData: boolean,
    adminKey: string,
  ) {
    this.url = url;
    this.dataDir = dataDir;
    this.prefix = prefix;
    this.adminKey = adminKey;
  }

  static async start(opts: PlatformOptions = {}): Promise<Platform> {
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'crucible-e2e-'));
    const prefix = opts.prefix ?? `crucible-test-${randomBytes(4).toString('hex')}`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', MAIN], {
      env: {
        ...process.env,
        CRUCIBLE_PORT: '0',
        CRUCIBLE_DATA_DIR: dataDir,
        CRUCIBLE_REDIS_PREFIX: prefix,
        CRUCIBLE_LOG_LEVEL: process.env.CRUCIBLE_TEST_LOG_LEVEL ?? 'warn',
        CRUCIBLE_AGENTS: '1',
        CRUCIBLE_STALL_INTERVAL_MS: '2000',
        CRUCIBLE_ADMIN_KEY: adminKeyFor(dataDir),
        ...UNTHROTTLED,
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', opts.captureLogs ? 'pipe' : 'inherit'],
    });
    let logs = '';
    child.stderr?.on('data', (d: Buffer) => (logs += d.toString()));
    let out = '';
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`platform did not start: ${out}`)), 60_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /Crucible is up: (http:\/\/\S+?)\/?\n/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolveUrl(m[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`platform exited with ${code}: ${out}`)));
    });
    const platform = new Platform(child, url, dataDir, prefix, opts.dataDir === undefined, opts.env?.CRUCIBLE_ADMIN_KEY ?? adminKeyFor(dataDir));
    platform.logs = logs;
    child.stderr?.on('data', (d: Buffer) => (platform.logs += d.toString()));
    return platform;
  }

  /** Waits until at least one agent reports `language` available. */
  async waitForLanguage(language: string, ms = 60_000): Promise<void> {
    const until = Date.now() + ms;
    for (;;) {
      const res = await fetch(`${this.url}/v1/languages`);
      const langs = (await res.json()) as { id: string; available: boolean; reason?: string }[];
      const lang = langs.find((l) => l.id === language);
      if (lang?.available) return;
      if (Date.now() > until) throw new Error(`language ${language} not available: ${lang?.reason}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Headers that authenticate as the admin (or as `key`). */
  auth(key = this.adminKey): Record<string, string> {
    return { authorization: `Bearer ${key}` };
  }

  /**
   * Sends a request as the admin unless `headers.authorization` is given; an empty one sends none.
   * A string body is sent as is (with a JSON content type unless `headers` names another).
   */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const all: Record<string, string> = { ...this.auth(), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers };
    if (all.authorization === '') delete all.authorization;
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: all,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  }

  /** Submits and waits for a terminal status. */
  async run(body: Record<string, unknown>, waitSeconds = 60) {
    const res = await this.request('POST', `/v1/evaluations?wait=${waitSeconds}`, body);
    if (res.status !== 201) throw new Error(`expected 201, got ${res.status}: ${res.text}`);
    return res.json;
  }

  /** Stops the platform as Ctrl-C would and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
    if (this.ownsData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
