import type Docker from 'dockerode';
import { DEFAULT_MAX_LIMITS, type RunResult } from '@crucible/storage/domain';
import { InvalidProgramError, PlatformError, type LanguageInfo, type RunRequest, type Sandbox } from '../sandbox.js';
import { createCodeDir, reapCodeDirs, type CodeDir } from './code-dir.js';
import { compileAndRun } from './compiled-run.js';
import { checkLimits, containerSpec, entryFile, REAP_GRACE_MS, type ContainerRuntime } from './container-spec.js';
import { runContainer } from './container-run.js';
import { connectDocker, messageOf, type Engine } from './docker-client.js';
import { engineMode, engineProblems, type EngineInfo } from './engine-check.js';
import { reapOrphans } from './reap.js';
import { buildFailure, DEFAULT_RUNTIMES_DIR, loadRuntimeCatalog, type RuntimeDefinition } from './runtime-catalog.js';
import { decideAppArmor, loadSeccompProfile, readLoadedAppArmorProfiles, type SeccompProfile } from './security-profiles.js';
import { hierarchyBudgetProblems, readProcLimits } from './kernel-budgets.js';
import { DEFAULT_SANDBOX_DIR, prepareSandboxDirs, type SandboxDirs } from './sandbox-dir.js';
import { UidPool, type SandboxUid } from './uid-pool.js';
import { enforcementSelfTest, type SelfTestInput, type SelfTestVerdict } from './self-test.js';

export interface ContainerSandboxOptions {
  /** A client, or an endpoint such as `unix:///run/crucible/docker.sock`; default: dockerode's. */
  docker?: Docker | string;
  /** Labels every container, so one agent's leftovers can be told from another's. */
  agentId: string;
  /** `runsc` runs each container under gVisor; it must be registered with the engine. */
  runtime?: ContainerRuntime;
  /**
   * Engine runtimes a request may choose (`containerRuntime`). Default: the default runtime and
   * runsc, i.e. a request may always ask for more isolation, never for less than configured.
   */
  allowedRuntimes?: readonly ContainerRuntime[];
  /** Folder of runtime definitions; default: `executor-agent/runtimes`. */
  runtimesDir?: string;
  /**
   * The agent's private directory on the host (code and build directories, the uid pool's
   * leases); default `<tmpdir>/crucible-sandbox`, shared by every agent on the host so that the
   * uid pool is host-wide. Made traversable by the agent alone (and the engine's remapped root).
   */
  sandboxDir?: string;
  /** Parent of the per-evaluation code directories; default `<sandboxDir>/code`. Secured like sandboxDir. */
  codeDirParent?: string;
  /** How long `init` waits for the engine to answer. */
  pingTimeoutMs?: number;
  /** How often containers past their deadline (any agent's) are removed; default 60 s. */
  reapIntervalMs?: number;
  /** Folder holding seccomp.json; default: `executor-agent/security`. */
  securityDir?: string;
  /** Where passing self-test verdicts are cached; default: `<tmpdir>/crucible-selftest`. */
  selfTestCacheDir?: string;
  /** Test seam for the self-test's probes (see SelfTestInput.tamper); never set in production. */
  selfTestTamper?: SelfTestInput['tamper'];
  /** Reads the host's loaded AppArmor profiles (replaceable to test both ways). */
  readAppArmorProfiles?: () => Promise<string | undefined>;
}

const REAP_INTERVAL_MS = 60_000;
const RECHECK_MS = 30_000;
/**
 * A dead agent's uid lease is taken over only once every container it can have made with it is
 * gone: past its deadline label (longest run + grace) and then found by a reaper pass.
 */
const UID_LEASE_STALE_MS = DEFAULT_MAX_LIMITS.timeoutMs + 2 * REAP_GRACE_MS + REAP_INTERVAL_MS;

/** The language whose image the enforcement self-test runs its (python) probes in. */
const PROBE_LANGUAGE = 'python';

/** Why an engine runtime may not run code: the engine's own unfitness, or a failed/missing self-test. */
interface Refusal {
  engine: boolean;
  reason: string;
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
  private seccomp: SeccompProfile | undefined;
  private appArmorProfile: string | undefined;
  private facts: Record<string, unknown> = {};
  private reaper: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  /** Per engine runtime in use: why it must not run code, or undefined when it passed every check. */
  private verdicts = new Map<ContainerRuntime, Refusal | undefined>();
  private readonly allowed: readonly ContainerRuntime[];
  private disposed = false;
  private dirs: SandboxDirs | undefined;
  private uids: UidPool | undefined;

  constructor(private readonly opts: ContainerSandboxOptions) {
    this.engine = connectDocker(opts.docker);
    this.runtime = opts.runtime ?? 'runc';
    this.allowed = [...new Set([this.runtime, ...(opts.allowedRuntimes ?? ['runsc'])])];
  }

  languages(): LanguageInfo[] {
    return [...this.catalog.values()].map((l) => ({ ...l.info }));
  }

  /** What the agent reports about this sandbox in its heartbeat (and so in `/readyz`). */
  details(): Record<string, unknown> {
    return {
      engine: this.engine.host,
      runtime: this.runtime,
      allowedRuntimes: Object.fromEntries(this.allowed.map((r) => [r, this.verdicts.has(r) ? (this.verdicts.get(r)?.reason ?? 'available') : 'unchecked'])),
      running: this.live.size,
      seccomp: this.seccomp ? `crucible ${this.seccomp.version}` : 'not loaded',
      ...this.facts,
    };
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
    // No profile, no containers: a missing or broken profile file is a deployment bug.
    this.seccomp = await loadSeccompProfile(this.opts.securityDir);
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
      this.facts = { reachable: false };
      return;
    }
    // Programs' files and the uid pool: without a private directory nothing may run.
    try {
      this.dirs = await prepareSandboxDirs(this.opts.sandboxDir ?? DEFAULT_SANDBOX_DIR, info.DockerRootDir, this.opts.codeDirParent);
      this.uids = new UidPool(this.dirs.uids, UID_LEASE_STALE_MS);
    } catch (err) {
      const reason = `the sandbox's private directory is unusable: ${messageOf(err)}`;
      this.catalog = new Map(definitions.map((d) => [d.id, unavailable(d, reason)]));
      this.facts = { reachable: true, ...engineMode(info) };
      return;
    }
    const budgetProblems = hierarchyBudgetProblems(await readProcLimits());
    // Best effort: a failure here must not keep the agent from starting. Then again periodically:
    // a dead agent's containers are past their deadline labels soon after it died.
    this.reaper ??= setInterval(() => void reapOrphans(docker).catch(() => undefined), this.opts.reapIntervalMs ?? REAP_INTERVAL_MS).unref();
    await Promise.all([
      reapOrphans(docker).catch(() => undefined),
      reapCodeDirs(DEFAULT_MAX_LIMITS.timeoutMs + REAP_GRACE_MS, this.dirs.code).catch(() => undefined),
    ]);
    const appArmor = decideAppArmor({
      engineSecurityOptions: info.SecurityOptions ?? [],
      loadedProfiles: await (this.opts.readAppArmorProfiles ?? readLoadedAppArmorProfiles)(),
    });
    this.appArmorProfile = appArmor.state === 'applied' ? appArmor.profile : undefined;
    const byTag = new Map(images.flatMap((img) => (img.RepoTags ?? []).map((tag) => [tag, img] as const)));

    // Each engine runtime in use is checked on its own: runsc may be fine where runc is not.
    const runtimes = [...new Set([...this.allowed, ...definitions.flatMap((d) => (d.containerRuntime ? [d.containerRuntime] : []))])];
    const probeImage = definitions.find((d) => d.id === PROBE_LANGUAGE && byTag.has(d.image))?.image;
    const verdicts = new Map<ContainerRuntime, Refusal | undefined>();
    const selfTests: Record<string, SelfTestVerdict | string> = {};
    await Promise.all(
      runtimes.map(async (runtime) => {
        // Under runsc the program's signals, queues and locks are the sentry's, never the host's.
        const problems = [...engineProblems(info, runtime), ...(runtime === 'runc' ? budgetProblems : [])];
        if (problems.length > 0) {
          verdicts.set(runtime, { engine: true, reason: `Docker engine at ${host} cannot confine untrusted code with ${runtime}: ${problems.join('; ')}` });
          return;
        }
        if (!probeImage) {
          const why = `the enforcement self-test needs the ${PROBE_LANGUAGE} image, which is not built`;
          selfTests[runtime] = why;
          verdicts.set(runtime, { engine: false, reason: `not verified: ${why}` });
          return;
        }
        const verdict = await enforcementSelfTest({
          docker,
          engineId: info.ID ?? host,
          runtime,
          image: probeImage,
          seccomp: this.seccomp!,
          appArmorProfile: this.appArmorProfile,
          agentId: this.opts.agentId,
          codeDirParent: this.dirs!.code,
          uids: this.uids!,
          cacheDir: this.opts.selfTestCacheDir,
          tamper: this.opts.selfTestTamper,
        });
        selfTests[runtime] = verdict;
        verdicts.set(runtime, verdict.ok ? undefined : { engine: false, reason: `the enforcement self-test failed under ${runtime}: ${verdict.problems.join('; ')}` });
      }),
    );
    this.facts = { reachable: true, ...engineMode(info), appArmor, selfTest: selfTests };
    this.verdicts = verdicts;
    // A failed self-test may be transient (an engine busy or restarting): check again later. The
    // agent re-checks unavailable languages itself, but a runtime only requests can choose (runsc
    // next to a healthy runc) would otherwise stay refused until a restart.
    if (!this.disposed && !this.recheck && [...verdicts.values()].some((v) => v && !v.engine)) {
      this.recheck = setTimeout(() => {
        this.recheck = undefined;
        if (!this.disposed) void this.init().catch(() => undefined);
      }, RECHECK_MS).unref();
    }

    const entries = await Promise.all(
      definitions.map(async (d): Promise<[string, Language]> => {
        const refused = verdicts.get(d.containerRuntime ?? this.runtime);
        const image = byTag.get(d.image);
        // An engine that cannot confine comes first; then a missing image, the most actionable.
        if (refused?.engine) return [d.id, unavailable(d, refused.reason)];
        if (!image) {
          const failure = await buildFailure(d);
          return [d.id, unavailable(d, failure ? `image ${d.image} failed to build: ${failure}` : `image ${d.image} not built: run ./crucible up`)];
        }
        if (refused) return [d.id, unavailable(d, refused.reason)];
        const version = image.Labels?.['crucible.runtime.version'] ?? '';
        return [d.id, { definition: d, info: { id: d.id, name: d.name, version, runtime: 'container', available: true } }];
      }),
    );
    this.catalog = new Map(entries);
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
      code = await createCodeDir(request.files, this.dirs!.code);
    } catch (err) {
      if (err instanceof InvalidProgramError) return invalidProgram(err, request);
      throw new PlatformError(`could not write the program's files: ${messageOf(err)}`, { cause: err });
    }
    await using _code = code;
    const runtime = this.chooseRuntime(definition, request);
    if (typeof runtime !== 'string') return invalidProgram(runtime.refused, request);
    // One uid for the evaluation's compile and run containers, released once both are gone.
    let lease: SandboxUid;
    try {
      lease = await this.uids!.acquire();
    } catch (err) {
      throw new PlatformError(`no sandbox uid: ${messageOf(err)}`, { cause: err });
    }
    await using _lease = lease;
    const base = {
      uid: lease.uid,
      evaluationId: request.evaluationId,
      agentId: this.opts.agentId,
      image: definition.image,
      runtime,
      seccompProfile: this.seccomp!.json,
      appArmorProfile: this.appArmorProfile,
      hostCodeDir: code.path,
    };
    if (!definition.compile) {
      const spec = containerSpec({
        ...base,
        run: definition.run,
        entryFile: entryFile(request.files.map((f) => f.name), definition.mainFile),
        args: request.args,
        limits: request.limits,
        now: Date.now(),
      });
      // `return await`: the code directory must outlive the run, not just its start.
      return await runContainer(this.engine.docker, spec, request, signal);
    }
    return await compileAndRun(this.engine.docker, { definition, compile: definition.compile, base, buildParent: this.dirs!.code }, request, signal);
  }

  /**
   * The engine runtime for one run. A language pinned to a runtime (runtime.json) keeps it; else
   * the request's choice, if this agent allows it and it passed its checks; else the default.
   */
  private chooseRuntime(definition: RuntimeDefinition, request: RunRequest): ContainerRuntime | { refused: InvalidProgramError } {
    if (definition.containerRuntime) return definition.containerRuntime;
    const wanted = request.containerRuntime;
    if (!wanted || wanted === this.runtime) return this.runtime;
    if (!this.allowed.includes(wanted)) {
      return { refused: new InvalidProgramError(`containerRuntime ${wanted} is not allowed here (allowed: ${this.allowed.join(', ')})`) };
    }
    const why = this.verdicts.get(wanted);
    if (why || !this.verdicts.has(wanted)) return { refused: new InvalidProgramError(`containerRuntime ${wanted} is unavailable: ${why?.reason ?? 'not checked'}`) };
    return wanted;
  }

  /** Kills whatever still runs and waits until its container is removed. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.disposed = true;
    clearInterval(this.reaper);
    clearTimeout(this.recheck);
    const live = [...this.live];
    for (const run of live) run.abort.abort();
    await Promise.all(live.map((r) => r.done));
  }
}

/** A submission the sandbox refuses to run (e.g. a file name with a path in it): outcome `error`. */
function invalidProgram(err: InvalidProgramError, request: RunRequest): RunResult {
  const stderr = `crucible: ${err.message}\n`;
  request.onOutput?.('stderr', Buffer.from(stderr));
  return { outcome: 'error', exitCode: null, signal: null, stdout: '', stderr, stdoutBase64: '', stderrBase64: Buffer.from(stderr).toString('base64'), stdoutTruncated: false, stderrTruncated: false, durationMs: 0 };
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
