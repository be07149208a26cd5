/**
 * Redis, PostgreSQL and Docker instances a test starts itself, so it can kill and restart them
 * without touching the machine's shared ones (never restarted by tests). Each lives in its own
 * temporary folder on its own port or socket, and is removed by `dispose()`.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > end) throw new Error(`${what} did not come up in ${ms} ms`);
    await sleep(100);
  }
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(force);
}

/** A redis-server that keeps nothing on disk, like the platform's: a restart comes back empty. */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.restart();
    return redis;
  }

  /** Starts it again (empty). */
  async restart(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until('redis-server', async () => (await execFileAsync('redis-cli', ['-p', String(this.port), 'ping'])).stdout.trim() === 'PONG', 20_000);
  }

  /** SIGKILL: everything in it is lost. */
  async kill(): Promise<void> {
    await stopChild(this.child, 'SIGKILL');
  }

  /** The server's own `run_id` (INFO server): a new one after every start. */
  async runId(): Promise<string> {
    return /^run_id:(\w+)/m.exec(await this.cli('info', 'server'))?.[1] ?? '';
  }

  /** A redis-cli command against this server; its output, trimmed. */
  async cli(...args: string[]): Promise<string> {
    return (await execFileAsync('redis-cli', ['-p', String(this.port), ...args])).stdout.trim();
  }

  async dispose(): Promise<void> {
    await this.kill();
  }
}

/** A PostgreSQL 15 cluster in a temporary folder, run as the `postgres` user (the tests run as root). */
export class OwnPostgres {
  private child: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    private readonly dir: string,
    /** The `postgres` user's uid and gid: the server refuses to run as root. */
    private readonly user: { uid: number; gid: number },
  ) {}

  static readonly BIN = '/usr/lib/postgresql/15/bin';

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<OwnPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'crucible-chaos-pg-'));
    const user = { uid: Number((await execFileAsync('id', ['-u', 'postgres'])).stdout), gid: Number((await execFileAsync('id', ['-g', 'postgres'])).stdout) };
    chownSync(dir, user.uid, user.gid);
    await execFileAsync(`${OwnPostgres.BIN}/initdb`, ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync'], { ...user, cwd: dir });
    const pg = new OwnPostgres(await freePort(), dir, user);
    await pg.startServer();
    return pg;
  }

  private async startServer(): Promise<void> {
    // Spawned directly (not through runuser), so signals reach the postmaster itself.
    this.child = spawn(
      `${OwnPostgres.BIN}/postgres`,
      ['-D', join(this.dir, 'data'), '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=100'],
      { stdio: 'ignore', cwd: this.dir, ...this.user },
    );
    await until('postgres', async () => {
      await execFileAsync(`${OwnPostgres.BIN}/pg_isready`, ['-h', '127.0.0.1', '-p', String(this.port)]);
      return true;
    });
  }

  /** The running postmaster's pid, from its own postmaster.pid file. */
  postmasterPid(): number {
    return Number(readFileSync(join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  }

  /** A fast shutdown (open connections are cut) and a start: what a PostgreSQL restart looks like to clients. */
  async restart(): Promise<void> {
    await stopChild(this.child, 'SIGINT');
    await this.startServer();
  }

  async dispose(): Promise<void> {
    await stopChild(this.child, 'SIGINT');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A dockerd of the test's own: its own data root, exec root, pid file and socket, no bridge, the
 * same user-namespace remapping as the platform's engine (scripts/docker/daemon.json). Images are
 * copied in from the shared engine (`docker save | docker load`); nothing of the shared engine is
 * changed.
 */
export class OwnDocker {
  private child: ChildProcess | undefined;
  private constructor(private readonly dir: string) {}

  get host(): string {
    return `unix://${join(this.dir, 'docker.sock')}`;
  }

  static async start(): Promise<OwnDocker> {
    // Short path: unix socket paths are limited to ~100 bytes.
    const docker = new OwnDocker(mkdtempSync('/tmp/cd-'));
    // The remapped root (an unprivileged uid) must be able to traverse to its part of the data root.
    chmodSync(docker.dir, 0o711);
    writeFileSync(
      join(docker.dir, 'daemon.json'),
      JSON.stringify({
        'userns-remap': 'default',
        'data-root': join(docker.dir, 'data'),
        'exec-root': join(docker.dir, 'exec'),
        pidfile: join(docker.dir, 'docker.pid'),
        hosts: [docker.host],
        'exec-opts': ['native.cgroupdriver=cgroupfs'],
        bridge: 'none',
        iptables: false,
        'ip-forward': false,
        'ip-masq': false,
        'log-driver': 'none',
      }),
    );
    await docker.startDaemon();
    return docker;
  }

  private async startDaemon(): Promise<void> {
    this.child = spawn('dockerd', ['--config-file', join(this.dir, 'daemon.json')], { stdio: 'ignore' });
    await until('dockerd', async () => {
      await execFileAsync('docker', ['version'], { env: { ...process.env, DOCKER_HOST: this.host } });
      return true;
    });
  }

  /** The running engine's pid, from the pid file the engine itself writes. */
  enginePid(): number {
    return Number(readFileSync(join(this.dir, 'docker.pid'), 'utf8').trim());
  }

  /** Copies `image` from the engine at `fromHost` into this one. */
  async copyImage(image: string, fromHost: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const save = spawn('docker', ['save', image], { env: { ...process.env, DOCKER_HOST: fromHost }, stdio: ['ignore', 'pipe', 'inherit'] });
      const load = spawn('docker', ['load', '-q'], { env: { ...process.env, DOCKER_HOST: this.host }, stdio: ['pipe', 'ignore', 'inherit'] });
      save.stdout.pipe(load.stdin);
      load.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker load exited ${code}`))));
      save.on('exit', (code) => code !== 0 && reject(new Error(`docker save exited ${code}`)));
    });
  }

  /** Stops the engine as a service restart would (SIGTERM: it stops its containers) and starts it again. */
  async restart(): Promise<void> {
    await stopChild(this.child, 'SIGTERM');
    await this.startDaemon();
  }

  async dispose(): Promise<void> {
    await stopChild(this.child, 'SIGTERM');
    // Overlay mounts of the data root must go before the folder can.
    await execFileAsync('sh', ['-c', `grep -o ' ${this.dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
