import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
// The bench is repository tooling, not a package: it reads the catalog the agents read so the
// baseline runs exactly the image the platform runs, rather than guessing from tags.
import { loadRuntimeCatalog } from '@crucible/executor-agent/container';

const execFileAsync = promisify(execFile);

/** Where ./crucible up puts its engine; the platform's agents default to the same. */
export const DEFAULT_DOCKER_HOST = 'unix:///run/crucible/docker.sock';

/** What a bare baseline needs to match the platform: the same engine and OCI runtime. */
export interface BaselineEnv {
  dockerHost: string;
  /** `runc` or `runsc`, as CRUCIBLE_CONTAINER_RUNTIME gives the platform's agents. */
  containerRuntime: string;
}

/**
 * The image the platform runs `python` in: `crucible/python:<hash12>` from the runtime's
 * definition, checked to exist and to carry the `crucible.runtime=python` label.
 */
export async function pythonImage(env: BaselineEnv): Promise<string> {
  const python = (await loadRuntimeCatalog()).find((r) => r.id === 'python');
  if (!python) throw new Error('no python runtime definition in executor-agent/runtimes/');
  const { stdout } = await execFileAsync('docker', ['image', 'inspect', '--format', '{{index .Config.Labels "crucible.runtime"}}', python.image], {
    env: { ...process.env, DOCKER_HOST: env.dockerHost },
  }).catch(() => {
    throw new Error(`image ${python.image} is missing on ${env.dockerHost}: run ./crucible up (or executor-agent/runtimes/build-images.sh)`);
  });
  if (stdout.trim() !== 'python') throw new Error(`image ${python.image} lacks the label crucible.runtime=python`);
  return python.image;
}

/**
 * One `docker run --rm [flags] <image> python3 -c 'print(1)'`: a fresh container, no platform.
 * `flags` lets a reference row add one of the platform's confinement options (e.g. `--network
 * none`) to tell the engine's cost of that option from the platform's own overhead.
 */
export function dockerRun(env: BaselineEnv, image: string, flags: readonly string[] = []): Promise<void> {
  const args = ['run', '--rm', '--runtime', env.containerRuntime, ...flags, image, 'python3', '-c', 'print(1)'];
  return expectOne('docker', args, { ...process.env, DOCKER_HOST: env.dockerHost });
}

/** One `node -e 'console.log(1)'`: the cheapest way to run JavaScript in a fresh process. */
export function nodeSpawn(): Promise<void> {
  return expectOne(process.execPath, ['-e', 'console.log(1)'], process.env);
}

/**
 * Spawns a process and resolves when it exited 0 having printed exactly "1\n": a baseline that
 * silently failed fast would flatter the platform's ratio.
 */
function expectOne(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // A hung engine must not hang the bench.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && out === '1\n') resolve();
      else reject(new Error(`${cmd} ${args.join(' ')}: exit ${code ?? signal}, stdout ${JSON.stringify(out)}, stderr ${err.trim()}`));
    });
  });
}
