/**
 * A PostgreSQL cluster of the test's own, in a temp folder on a free port, so a test can stop and
 * start it (a real outage) without touching the machine's shared server. Run as the `postgres`
 * user: the server refuses to run as root. Not a test file itself.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The newest installed PostgreSQL's programs (/usr/lib/postgresql/<major>/bin). */
function binDir(): string {
  const majors = readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  if (!majors[0]) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${majors[0]}/bin`;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

export class OwnPostgres implements AsyncDisposable {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly user: { uid: number; gid: number },
    private readonly bin: string,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<OwnPostgres> {
    const bin = binDir();
    const dir = mkdtempSync(join(tmpdir(), 'crucible-sched-pg-'));
    const user = { uid: Number((await execFileAsync('id', ['-u', 'postgres'])).stdout), gid: Number((await execFileAsync('id', ['-g', 'postgres'])).stdout) };
    chownSync(dir, user.uid, user.gid);
    await execFileAsync(`${bin}/initdb`, ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync'], { ...user, cwd: dir });
    const pg = new OwnPostgres(await freePort(), dir, user, bin);
    await pg.startServer();
    return pg;
  }

  async startServer(): Promise<void> {
    // Spawned directly (not through pg_ctl), so the test owns the postmaster and its signals.
    this.child = spawn(
      `${this.bin}/postgres`,
      ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      { stdio: 'ignore', cwd: this.dir, ...this.user },
    );
    const end = Date.now() + 60_000;
    for (;;) {
      const ready = await execFileAsync(`${this.bin}/pg_isready`, ['-h', '127.0.0.1', '-p', String(this.port)]).then(() => true, () => false);
      if (ready) return;
      if (Date.now() > end) throw new Error('own PostgreSQL did not come up in 60 s');
      await sleep(100);
    }
  }

  /** A fast shutdown: open connections are cut, new ones refused, until startServer(). */
  async stopServer(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(force);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopServer();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
