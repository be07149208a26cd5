import Docker from 'dockerode';
import { PlatformError } from '../sandbox.js';

/** A Docker client and a human-readable name for the engine it talks to. */
export interface Engine {
  docker: Docker;
  host: string;
}

/**
 * Connects to an engine given as a client, or as an endpoint (`unix:///path`, `/path`,
 * `tcp://host:port`). With neither, dockerode's default applies (DOCKER_HOST, else the local socket).
 */
export function connectDocker(docker?: Docker | string): Engine {
  if (docker instanceof Docker) return { docker, host: describe(docker) };
  if (docker === undefined || docker === '') {
    const d = new Docker();
    return { docker: d, host: describe(d) };
  }
  if (docker.startsWith('unix://') || docker.startsWith('/')) {
    const socketPath = docker.replace(/^unix:\/\//, '');
    // host: undefined, explicitly: dockerode merges DOCKER_HOST into explicit options.
    return { docker: new Docker({ socketPath, host: undefined, protocol: 'http' }), host: `unix://${socketPath}` };
  }
  const tcp = /^(?:tcp|http):\/\/([^:/]+):(\d+)\/?$/.exec(docker);
  if (tcp) {
    return { docker: new Docker({ host: tcp[1], port: Number(tcp[2]), protocol: 'http' }), host: docker };
  }
  throw new Error(`unsupported Docker endpoint ${JSON.stringify(docker)}: use unix:///path or tcp://host:port`);
}

function describe(docker: Docker): string {
  const m = docker.modem as { socketPath?: unknown; host?: string; port?: number | string };
  if (m.host) return `tcp://${m.host}:${m.port ?? ''}`;
  return typeof m.socketPath === 'string' ? `unix://${m.socketPath}` : 'the default Docker socket';
}

/** The HTTP status of a dockerode error, if the engine answered at all. */
export function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** The engine's own message for a failed call, without dockerode's "(HTTP code …)" prefix. */
export function messageOf(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | null)?.json;
  if (json && typeof json.message === 'string') return json.message;
  return err instanceof Error ? err.message : String(err);
}

/** Runs one engine call; any failure is the platform's, so it becomes a PlatformError. */
export async function engineCall<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new PlatformError(`Docker ${action} failed: ${messageOf(err)}`, { cause: err });
  }
}
