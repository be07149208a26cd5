import type Docker from 'dockerode';
import { DEFAULT_MAX_LIMITS, type RunResult } from '@crucible/storage/domain';
import { InvalidProgramError, PlatformError, type LanguageInfo, type RunRequest, type Sandbox } from '../sandbox.js';
import { createCodeDir, reapCodeDirs, type CodeDir } from './code-dir.js';
import { checkLimits, containerSpec, entryFile, REAP_GRACE_MS, type ContainerRuntime } from './container-spec.js';
import { runContainer } from './container-run.js';
import { connectDocker, messageOf, type Engine } from './docker-client.js';
import { engineProblems, type EngineInfo } from './engine-check.js';
import { reapOrphans } from './reap.js';
import { DEFAULT_RUNTIMES_DIR, loadRuntimeCatalog, type RuntimeDefinition } from './runtime-catalog.js';

export interface ContainerSandboxOptions {
  /** A client, or an endpoint such as `unix:///run/crucible/docker.sock`; default: dockerode's. */
  docker?: Docker | string;
  /** Labels every container, so one agent's leftovers can be told from another's. */
  agentId: string;
  /** `runsc` runs each container under gVisor; it must be registered with the engine. */
  runtime?: ContainerRuntime;
  /** Folder of runtime definitions; default: `executor-agent/runtimes`. */
  runtimesDir?: string;
  /** Parent of the per-evaluation code directories; the remapped uid must be able to traverse it. */
  codeDirParent?: string;
  /** How long `init` waits for the engine to answer. */
  pingTimeoutMs?: number;
}

interface Language {
  definition: RuntimeDefinition;
  info: LanguageInfo;
}

/**
 * The container sandbox: one fresh, labelled, locked-down container per evaluation on a Docker
 * engine (runc or gVisor's runsc), removed afterwards whatever happens. See container-spec.ts for
 * the confinement and container-run.ts for one run's lifecycle.
 */
export class ContainerSandbox implements Sandbox {
  readonly kind = 'container' as const;
  private readonly engine: Engine;
  private readonly runtime: ContainerRuntime;
  private catalog = new Map<string, Language>();
  private ready: Promise<void> | undefined;
  private readonly live = new Set<{ abort: AbortController; done: Promise<unknown> }>();
  private disposed = false;

  constructor(private readonly opts: ContainerSandboxOptions) {
    this.engine = connectDocker(opts.docker);
    this.runtime = opts.runtime ?? 'runc';
  }

  languages(): LanguageInfo[] {
    return [...this.catalog.values()].map((l) => ({ ...l.info }));
  }

  /** What the agent reports about this sandbox in its heartbeat. */
  details(): Record<string, unknown> {
    return { engine: this.engine.host, runtime: this.runtime, running: this.live.size };
  }

  /**
   * Reads the runtime catalog and checks the engine and each language's image; calling it again
   * re-checks (e.g. once images are built). Never throws for a missing or unfit engine: its
   * languages are reported unavailable, with the reason. Also removes what dead agents left
   * behind: containers past their deadline and stale code directories.
   */
  init(): Promise<void> {
    this.ready = this.load();
    return this.ready;
  }

  private async load(): Promise<void> {
    const definitions = await loadRuntimeCatalog(this.opts.runtimesDir ?? DEFAULT_RUNTIMES_DIR);
    const unavailable = (d: RuntimeDefinition, reason: string): Language => ({
      definition: d,
      info: { id: d.id, name: d.name, version: '', runtime: 'container', available: false, reason },
    });
    const { docker, host } = this.engine;
    let images: Docker.ImageInfo[];
    let info: EngineInfo;
    try {
      await withTimeout(docker.ping(), this.opts.pingTimeoutMs ?? 3000, 'no answer');
      [info, images] = await Promise.all([
        docker.info() as Promise<EngineInfo>,
        docker.listImages({ filters: { label: ['crucible.runtime'] } }),
      ]);
    } catch (err) {
      const reason = `Docker engine not reachable at ${host}: ${messageOf(err)}`;
      this.catalog = new Map(definitions.map((d) => [d.id, unavailable(d, reason)]));
      return;
    }
    // Best effort: a failure here must not keep the agent from starting.
    await Promise.all([
      reapOrphans(docker).catch(() => undefined),
      reapCodeDirs(DEFAULT_MAX_LIMITS.timeoutMs + REAP_GRACE_MS, this.opts.codeDirParent).catch(() => undefined),
    ]);
    const problems = engineProblems(info, this.runtime);
    const byTag = new Map(images.flatMap((img) => (img.RepoTags ?? []).map((tag) => [tag, img] as const)));
    this.catalog = new Map(
      definitions.map((d) => {
        if (problems.length > 0) return [d.id, unavailable(d, `Docker engine at ${host} cannot confine untrusted code: ${problems.join('; ')}`)];
        const image = byTag.get(d.image);
        if (!image) return [d.id, unavailable(d, `image ${d.image} not built: run ./crucible up`)];
        const version = image.Labels?.['crucible.runtime.version'] ?? '';
        return [d.id, { definition: d, info: { id: d.id, name: d.name, version, runtime: 'container', available: true } }];
      }),
    );
  }

  async run(request: RunRequest): Promise<RunResult> {
    if (this.disposed) throw new PlatformError('the container sandbox has been disposed');
    await (this.ready ?? this.init()).catch((err: unknown) => {
      throw new PlatformError(`the container sandbox could not start: ${messageOf(err)}`, { cause: err });
    });
    const language = this.catalog.get(request.language);
    if (!language) throw new PlatformError(`language ${JSON.stringify(request.language)} is not known to the container sandbox`);
    if (!language.info.available) throw new PlatformError(`language ${request.language} is unavailable: ${language.info.reason}`);

    // Aborted by the request or by dispose.
    const abort = new AbortController();
    const forward = () => abort.abort();
    request.signal?.addEventListener('abort', forward, { once: true });
    if (request.signal?.aborted) abort.abort();
    const running = this.runOnce(language.definition, request, abort.signal);
    const entry = { abort, done: running.catch(() => undefined) };
    this.live.add(entry);
    try {
      return await running;
    } finally {
      this.live.delete(entry);
      request.signal?.removeEventListener('abort', forward);
    }
  }

  private async runOnce(definition: RuntimeDefinition, request: RunRequest, signal: AbortSignal): Promise<RunResult> {
    let code: CodeDir;
    try {
      checkLimits(request.limits);
      code = await createCodeDir(request.files, this.opts.codeDirParent);
    } catch (err) {
      if (err instanceof InvalidProgramError) return invalidProgram(err, request);
      throw new PlatformError(`could not write the program's files: ${messageOf(err)}`, { cause: err });
    }
    await using _code = code;
    const spec = containerSpec({
      evaluationId: request.evaluationId,
      agentId: this.opts.agentId,
      image: definition.image,
      runtime: this.runtime,
      run: definition.run,
      entryFile: entryFile(
        request.files.map((f) => f.name),
        definition.mainFile,
      ),
      args: request.args,
      limits: request.limits,
      hostCodeDir: code.path,
      now: Date.now(),
    });
    // `return await`: the code directory must outlive the run, not just its start.
    return await runContainer(this.engine.docker, spec, request, signal);
  }

  /** Kills whatever still runs and waits until its container is removed. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.disposed = true;
    const live = [...this.live];
    for (const run of live) run.abort.abort();
    await Promise.all(live.map((r) => r.done));
  }
}

/** A submission the sandbox refuses to run (e.g. a file name with a path in it): outcome `error`. */
function invalidProgram(err: InvalidProgramError, request: RunRequest): RunResult {
  const stderr = `crucible: ${err.message}\n`;
  request.onOutput?.('stderr', stderr);
  return { outcome: 'error', exitCode: null, signal: null, stdout: '', stderr, stdoutTruncated: false, stderrTruncated: false, durationMs: 0 };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
