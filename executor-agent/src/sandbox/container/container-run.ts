import type { Duplex } from 'node:stream';
import type Docker from 'dockerode';
import type { RunResult } from '@crucible/storage/domain';
import { OutputCollector } from '../output-collector.js';
import { PlatformError, type OutputStream, type RunRequest } from '../sandbox.js';
import { engineCall, messageOf, statusOf } from './docker-client.js';
import { DockerStreamDemuxer } from './docker-output.js';
import { decideOutcome, type KillReason } from './outcome.js';
import { MemoryWatch } from './memory-watch.js';
import { OomGuard } from './oom-pin.js';
import { PidsWatch } from './pids-watch.js';

/** How long past the deadline a container may take to die before the engine is deemed broken. */
const STOP_GRACE_MS = 10_000;
/** How long output may keep draining after the container has exited. */
const DRAIN_MS = 2_000;

/**
 * Runs one evaluation in a container created from `spec`, from create to remove: attach before
 * start (so no output is lost and stdin can be sent), a SIGKILL at the deadline, on abort or past
 * the output cap, and removal whatever happens. `signal` aborts with outcome `killed`.
 * Resolves for anything the program does; rejects with PlatformError for engine faults.
 */
export async function runContainer(docker: Docker, spec: Docker.ContainerCreateOptions, request: RunRequest, signal: AbortSignal): Promise<RunResult> {
  const { limits } = request;
  let killedFor: KillReason | undefined;
  let started = false;
  let container: Docker.Container | undefined;
  let attach: Duplex | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let pids: PidsWatch | undefined;
  let memory: MemoryWatch | undefined;
  let oom: OomGuard | undefined;

  // A throwing callback must not crash the agent from inside a stream event, nor leak the
  // container: its first error is rethrown once the container is gone.
  let callbackError: { error: unknown } | undefined;
  const guard =
    <A extends unknown[]>(f: ((...args: A) => void) | undefined) =>
    (...args: A) => {
      try {
        f?.(...args);
      } catch (error) {
        callbackError ??= { error };
      }
    };
  // Output can arrive before the engine's start call returns: the program has started by then.
  let announced = false;
  const announceStart = () => {
    if (announced) return;
    announced = true;
    guard(request.onStart)();
  };
  const onOutput = guard((stream: OutputStream, chunk: Buffer) => {
    announceStart();
    request.onOutput?.(stream, chunk);
  });
  const stdout = new OutputCollector('stdout', limits.outputBytes, onOutput);
  const stderr = new OutputCollector('stderr', limits.outputBytes, onOutput);
  const result = (facts: Pick<RunResult, 'outcome' | 'exitCode' | 'signal'>, durationMs: number): RunResult => ({
    ...facts,
    ...OutputCollector.fields(stdout, stderr),
    durationMs: Math.round(durationMs),
  });
  if (signal.aborted) return result({ outcome: 'killed', exitCode: null, signal: null }, 0);

  let killFailed: unknown;
  const sendKill = () => {
    void container?.kill({ signal: 'SIGKILL' }).catch((err: unknown) => {
      // 404/409: it has already gone. Anything else: the watchdog below catches a survivor.
      if (statusOf(err) !== 404 && statusOf(err) !== 409) killFailed = err;
    });
  };
  const kill = (reason: KillReason) => {
    if (killedFor) return;
    killedFor = reason;
    if (started) sendKill();
  };
  const onAbort = () => kill('killed');
  signal.addEventListener('abort', onAbort, { once: true });

  try {
    container = await engineCall('create', () => docker.createContainer(spec));
    const c = container;
    attach = (await engineCall('attach', () =>
      c.attach({ stream: true, hijack: true, stdin: true, stdout: true, stderr: true }),
    )) as Duplex;
    // Errors on the connection (e.g. EPIPE once the program closed stdin) end it like EOF.
    attach.on('error', () => undefined);
    const demux = new DockerStreamDemuxer((stream, data) => {
      const kept = (stream === 'stdout' ? stdout : stderr).push(data);
      if (!kept) kill('output_limit');
    });
    const drained = new Promise<void>((resolve) => {
      attach!.on('data', (chunk: Buffer) => demux.push(chunk));
      attach!.once('end', resolve).once('close', resolve);
    });

    if (killedFor) return result({ outcome: killedFor, exitCode: null, signal: null }, 0);
    await engineCall('start', () => c.start());
    const t0 = performance.now();
    started = true;
    pids = new PidsWatch(c.id);
    pids.start();
    memory = new MemoryWatch(c.id);
    memory.start();
    if (spec.HostConfig?.Runtime !== 'runsc') oom = await guardOomScore(c.id);
    if (killedFor) sendKill();
    deadline = setTimeout(() => kill('timeout'), limits.timeoutMs);
    announceStart();
    // Half-closing our side delivers EOF: the container was created with StdinOnce.
    attach.end(request.stdin);

    const exited = await waitWithWatchdog(c, limits.timeoutMs + STOP_GRACE_MS, () => killFailed);
    const durationMs = performance.now() - t0;
    clearTimeout(deadline);
    await Promise.race([drained, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);

    let oomKilled = false;
    // Only a non-zero exit the sandbox did not cause can have been the OOM killer's: inspect
    // then, and only then, to spare every other run a round trip.
    if (exited !== 0 && !killedFor) {
      const info = await engineCall('inspect', () => c.inspect());
      oomKilled = info.State.OOMKilled;
    }
    // A bomb that killed its sandbox can end before a poll saw the counter: ask the kernel's log then.
    const [pidsLimitHit, memoryLimitReached] = await Promise.all([pids.stop({ askKernelLog: exited !== 0 || killedFor !== undefined }), memory.stop()]);
    return { ...result(decideOutcome({ exitCode: exited, killedFor, oomKilled, memoryLimitReached }), durationMs), ...(pidsLimitHit ? { pidsLimitHit } : {}) };
  } finally {
    clearTimeout(deadline);
    void pids?.stop();
    void memory?.stop();
    void oom?.stop();
    signal.removeEventListener('abort', onAbort);
    attach?.destroy();
    if (container) await removeContainer(container);
    // Deliberately from finally: the caller's own callback error is the one to report.
    if (callbackError) throw callbackError.error;
  }
}

/**
 * Pins and guards the OOM score of a runc container's processes (oom-pin.ts); under runsc the program's
 * processes live inside the sentry, whose own host score the engine sets and the program cannot
 * reach. A container that cannot be pinned must not run: the finally block removes it.
 */
async function guardOomScore(id: string): Promise<OomGuard> {
  const guard = new OomGuard(id);
  try {
    await guard.pin();
    return guard;
  } catch (err) {
    throw new PlatformError(`could not pin the sandbox's OOM score: ${messageOf(err)}`, { cause: err });
  }
}

/** Waits for the container to stop; a container that outlives its deadline plus grace is an engine fault. */
async function waitWithWatchdog(container: Docker.Container, ms: number, killError: () => unknown): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const why = killError();
      reject(new PlatformError(`container ${container.id.slice(0, 12)} still running ${ms} ms after start${why ? `: kill failed: ${messageOf(why)}` : ''}`));
    }, ms);
  });
  try {
    const res = (await Promise.race([engineCall('wait', () => container.wait({ condition: 'not-running' })), watchdog])) as {
      StatusCode: number;
    };
    return res.StatusCode;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Removes the container (killing it if need be). One retry; a container that still survives is
 * past its deadline label soon and `reapOrphans` removes it. The run's result stands either way.
 */
async function removeContainer(container: Docker.Container): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await container.remove({ force: true, v: true });
      return;
    } catch (err) {
      if (statusOf(err) === 404) return;
      // 409 "removal already in progress" also ends here: the engine is finishing it.
      if (statusOf(err) === 409) return;
    }
  }
}
