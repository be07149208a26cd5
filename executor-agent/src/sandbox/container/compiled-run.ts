import type Docker from 'dockerode';
import type { CompileResult, Limits, RunResult } from '@crucible/storage/domain';
import { InvalidProgramError, PlatformError, type RunRequest } from '../sandbox.js';
import { createBuildDir, sealBuild, type BuildDir } from './code-dir.js';
import { runContainer } from './container-run.js';
import { containerSpec, type ContainerSpecInput } from './container-spec.js';
import { messageOf } from './docker-client.js';
import type { RuntimeDefinition } from './runtime-catalog.js';

/** One compiled-language evaluation: its runtime, compile step and the spec fields both containers share. */
export interface CompiledRun {
  definition: RuntimeDefinition;
  compile: NonNullable<RuntimeDefinition['compile']>;
  base: Omit<ContainerSpecInput, 'run' | 'entryFile' | 'args' | 'limits' | 'now' | 'build'>;
  /** Where the build directories are made: the agent's private code directory. */
  buildParent: string;
}

/**
 * A compiled language: the compile command runs in its own container with its own limits and
 * a writable build directory; only if it succeeds does the program run, in a second container
 * that mounts the build read-only. The result carries the compile step either way.
 */
export async function compileAndRun(docker: Docker, job: CompiledRun, request: RunRequest, signal: AbortSignal): Promise<RunResult> {
  const { definition, compile, base } = job;
  let build: BuildDir;
  try {
    build = await createBuildDir(job.buildParent);
  } catch (err) {
    throw new PlatformError(`could not create the build directory: ${messageOf(err)}`, { cause: err });
  }
  await using _build = build;
  const compileLimits = { ...compileDefaults(request.limits), ...compile.limits, outputBytes: request.limits.outputBytes };
  // onStart once: the evaluation is running from the compile step on.
  let started = false;
  const onStart = () => {
    if (!started) request.onStart?.();
    started = true;
  };
  const compiled = await runContainer(
    docker,
    containerSpec({ ...base, run: compile.command, entryFile: null, args: [], limits: compileLimits, build: { hostDir: build.path, writable: true }, now: Date.now() }),
    { ...request, stdin: '', limits: compileLimits, onStart, onOutput: undefined },
    signal,
  );
  const step: CompileResult = {
    stdout: compiled.stdout,
    stderr: compiled.stderr,
    stdoutBase64: compiled.stdoutBase64 ?? '',
    stderrBase64: compiled.stderrBase64 ?? '',
    exitCode: compiled.exitCode,
    durationMs: compiled.durationMs,
  };
  if (compiled.outcome !== 'success') {
    // The compiler's message is what the user needs: it becomes the evaluation's stderr too.
    if (compiled.stderrBase64) request.onOutput?.('stderr', Buffer.from(compiled.stderrBase64, 'base64'));
    return { ...compiled, stdout: '', stdoutBase64: '', compile: step };
  }
  // The compile container is gone (runContainer removed it): freeze what it left, so nothing can
  // change the binary between the two steps.
  let sealed: BuildDir;
  try {
    sealed = await sealBuild(build, job.buildParent);
  } catch (err) {
    if (!(err instanceof InvalidProgramError)) throw new PlatformError(`could not seal the build output: ${messageOf(err)}`, { cause: err });
    const stderr = `crucible: the compile step's output cannot be run: ${err.message}\n`;
    const bytes = Buffer.from(stderr);
    request.onOutput?.('stderr', bytes);
    return { ...compiled, outcome: 'error', stdout: '', stdoutBase64: '', stderr, stderrBase64: bytes.toString('base64'), compile: step };
  }
  await using _sealed = sealed;
  const run = await runContainer(
    docker,
    containerSpec({ ...base, run: definition.run, entryFile: null, args: request.args, limits: request.limits, build: { hostDir: sealed.path, writable: false }, now: Date.now() }),
    { ...request, onStart },
    signal,
  );
  return { ...run, compile: step };
}

/** Limits a compile step gets where its runtime sets none: the evaluation's, with room to work. */
function compileDefaults(limits: Limits): Limits {
  return { ...limits, timeoutMs: Math.max(limits.timeoutMs, 10_000), memoryMb: Math.max(limits.memoryMb, 256), pids: Math.max(limits.pids, 16) };
}
