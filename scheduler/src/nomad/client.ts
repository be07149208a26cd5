import { Agent, fetch, type Dispatcher } from 'undici';
import type {
  Allocation,
  AllocationListStub,
  Evaluation,
  Job,
  JobDeregisterResponse,
  JobDispatchResponse,
  JobListStub,
  JobRegisterResponse,
  JobScaleStatusResponse,
  NodeListStub,
} from './api-types.js';
import { NomadApiError, NomadUnreachableError } from './errors.js';
import { readEventStream, type NomadEventFrame } from './event-stream.js';

export interface NomadTls {
  /** PEM of the CA that signed Nomad's server certificate. */
  ca?: string;
  /** PEM client certificate and key, for clusters that verify clients (`verify_https_client`). */
  cert?: string;
  key?: string;
  /** Name to verify in the server's certificate, e.g. `server.global.nomad`. */
  serverName?: string;
}

export interface NomadClientOptions {
  /** e.g. `http://127.0.0.1:4646` or `https://nomad.example:4646` (NOMAD_ADDR). */
  address: string;
  /** ACL token (NOMAD_TOKEN), sent as X-Nomad-Token. */
  token?: string;
  namespace?: string;
  region?: string;
  tls?: NomadTls;
  /** Attempts after the first on 5xx and connection errors. */
  retries?: number;
  /** First retry delay; doubled each attempt, with jitter. */
  retryBaseMs?: number;
  /** Time limit of one non-blocking request. */
  timeoutMs?: number;
}

/** A blocking query's answer: the value and the index to pass to the next query. */
export interface Indexed<T> {
  value: T;
  index: number;
}

/** `?index=&wait=`: return when the state changed past `index`, or after `waitMs`. */
export interface BlockingOptions {
  index?: number;
  waitMs?: number;
  signal?: AbortSignal;
}

interface RequestOptions {
  /** An array repeats the parameter (`topic=A&topic=B`). */
  query?: Record<string, string | number | boolean | string[] | undefined>;
  body?: unknown;
  blocking?: BlockingOptions;
  signal?: AbortSignal;
  /** For the event stream: hand back the open response instead of reading it. */
  stream?: boolean;
}

/** Nomad caps `wait` at 10 minutes; a blocking query also gets wait/16 of jitter on the server. */
const MAX_WAIT_MS = 10 * 60_000;

/**
 * A thin typed client for the parts of Nomad's HTTP API the nomad driver uses. Types come from the
 * OpenAPI specification (api-types.ts, generated). Retries 5xx and connection errors with
 * exponential backoff; any other error is a NomadApiError carrying Nomad's plain-text body.
 */
export class NomadClient {
  private readonly base: string;
  private readonly dispatcher: Dispatcher | undefined;

  constructor(private readonly opts: NomadClientOptions) {
    this.base = opts.address.replace(/\/+$/, '');
    if (!/^https?:\/\//.test(this.base)) throw new Error(`NOMAD_ADDR must start with http:// or https://, got "${opts.address}"`);
    const tls = opts.tls;
    this.dispatcher =
      tls && (tls.ca || tls.cert || tls.serverName)
        ? new Agent({ connect: { ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.serverName, rejectUnauthorized: true } })
        : undefined;
  }

  get address(): string {
    return this.base;
  }

  // ---- jobs ----

  /** Registers a new job or a new version of one (`POST /v1/jobs`). */
  registerJob(job: Job): Promise<JobRegisterResponse> {
    return this.json('POST', '/v1/jobs', { body: { Job: job } });
  }

  /** Updates an existing job (`POST /v1/job/{id}`). */
  updateJob(job: Job): Promise<JobRegisterResponse> {
    if (!job.ID) throw new Error('updateJob: the job has no ID');
    return this.json('POST', `/v1/job/${enc(job.ID)}`, { body: { Job: job } });
  }

  /** The job, or undefined when Nomad does not know it. */
  async job(id: string): Promise<Job | undefined> {
    try {
      return await this.json<Job>('GET', `/v1/job/${enc(id)}`);
    } catch (err) {
      if (err instanceof NomadApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  jobs(prefix?: string, blocking?: BlockingOptions): Promise<Indexed<JobListStub[]>> {
    return this.indexed('GET', '/v1/jobs', { query: { prefix }, blocking });
  }

  /**
   * Dispatches a parameterized job. The idempotency token makes a retried dispatch (e.g. after a
   * lost response) return the first dispatch instead of starting a second one.
   */
  dispatch(jobId: string, opts: { meta: Record<string, string>; payload?: Uint8Array; idempotencyToken: string }): Promise<JobDispatchResponse> {
    const body: Record<string, unknown> = { JobID: jobId, Meta: opts.meta };
    if (opts.payload) body.Payload = Buffer.from(opts.payload).toString('base64');
    return this.json('POST', `/v1/job/${enc(jobId)}/dispatch`, { query: { idempotency_token: opts.idempotencyToken }, body });
  }

  /** Stops a job (`DELETE /v1/job/{id}`); `purge` also removes it from Nomad's state. */
  stopJob(id: string, opts: { purge?: boolean } = {}): Promise<JobDeregisterResponse> {
    return this.json('DELETE', `/v1/job/${enc(id)}`, { query: { purge: opts.purge ? true : undefined } });
  }

  /** Sets a task group's count (`POST /v1/job/{id}/scale`). */
  scale(jobId: string, group: string, count: number, message?: string): Promise<JobRegisterResponse> {
    return this.json('POST', `/v1/job/${enc(jobId)}/scale`, { body: { Count: count, Target: { Group: group }, Message: message } });
  }

  scaleStatus(jobId: string): Promise<JobScaleStatusResponse> {
    return this.json('GET', `/v1/job/${enc(jobId)}/scale`);
  }

  // ---- allocations and evaluations ----

  jobAllocations(jobId: string, blocking?: BlockingOptions): Promise<Indexed<AllocationListStub[]>> {
    return this.indexed('GET', `/v1/job/${enc(jobId)}/allocations`, { blocking });
  }

  /** Every allocation in the namespace; `resources` adds AllocatedResources (needed for capacity). */
  allocations(opts: { prefix?: string; resources?: boolean } = {}, blocking?: BlockingOptions): Promise<Indexed<AllocationListStub[]>> {
    return this.indexed('GET', '/v1/allocations', { query: { prefix: opts.prefix, resources: opts.resources || undefined }, blocking });
  }

  allocation(id: string): Promise<Allocation> {
    return this.json('GET', `/v1/allocation/${enc(id)}`);
  }

  jobEvaluations(jobId: string): Promise<Evaluation[]> {
    return this.json('GET', `/v1/job/${enc(jobId)}/evaluations`);
  }

  evaluation(id: string): Promise<Evaluation> {
    return this.json('GET', `/v1/evaluation/${enc(id)}`);
  }

  /** A task's log from the start (`/v1/client/fs/logs`, plain). */
  async allocationLogs(allocId: string, task: string, type: 'stdout' | 'stderr'): Promise<string> {
    const res = await this.send('GET', `/v1/client/fs/logs/${enc(allocId)}`, {
      query: { task, type, plain: true, origin: 'start', offset: 0 },
    });
    return res.text();
  }

  // ---- nodes ----

  nodes(opts: { resources?: boolean } = {}, blocking?: BlockingOptions): Promise<Indexed<NodeListStub[]>> {
    return this.indexed('GET', '/v1/nodes', { query: { resources: opts.resources || undefined }, blocking });
  }

  /** Nodes that can take new work now: up, eligible for scheduling and not draining. */
  async schedulableNodes(opts: { resources?: boolean } = {}): Promise<NodeListStub[]> {
    const { value } = await this.nodes(opts);
    return value.filter(isSchedulable);
  }

  // ---- events ----

  /**
   * Follows `/v1/event/stream` (NDJSON) from `index`; heartbeats are skipped. Ends when the server
   * closes the stream or `signal` aborts; throws on errors, so callers fall back to blocking queries.
   */
  async *events(opts: { topics: string[]; index?: number; signal?: AbortSignal }): AsyncGenerator<NomadEventFrame> {
    const res = await this.send('GET', '/v1/event/stream', {
      query: { index: opts.index, topic: opts.topics },
      signal: opts.signal,
      stream: true,
    });
    if (!res.body) return;
    yield* readEventStream(res.body, opts.signal);
  }

  // ---- transport ----

  private async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    return (await this.indexed<T>(method, path, opts)).value;
  }

  private async indexed<T>(method: string, path: string, opts: RequestOptions = {}): Promise<Indexed<T>> {
    const res = await this.send(method, path, opts);
    const text = await res.text();
    const index = Number(res.headers.get('x-nomad-index') ?? 0);
    let value: T;
    try {
      value = (text === '' ? undefined : JSON.parse(text)) as T;
    } catch {
      throw new NomadApiError(res.status, method, path, `response is not JSON: ${text.slice(0, 200)}`);
    }
    return { value, index: Number.isFinite(index) ? index : 0 };
  }

  private async send(method: string, path: string, opts: RequestOptions) {
    const url = this.url(path, opts);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers['x-nomad-token'] = this.opts.token;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const retries = this.opts.retries ?? 4;
    const base = this.opts.retryBaseMs ?? 200;
    const blockingMs = opts.blocking?.index !== undefined ? Math.min(opts.blocking.waitMs ?? 300_000, MAX_WAIT_MS) : 0;
    const userSignal = opts.signal ?? opts.blocking?.signal;
    for (let attempt = 0; ; attempt++) {
      // A blocking query may legitimately take wait + wait/16; a stream has no time limit.
      const limit = opts.stream ? undefined : AbortSignal.timeout(Math.ceil(blockingMs ? blockingMs + blockingMs / 16 + 10_000 : (this.opts.timeoutMs ?? 30_000)));
      const signal = anySignal([userSignal, limit]);
      let failure: Error;
      try {
        const res = await fetch(url, { method, headers, body, signal, dispatcher: this.dispatcher });
        if (res.ok) return res;
        const text = await res.text().catch(() => '');
        failure = new NomadApiError(res.status, method, path, text);
        if (!(failure as NomadApiError).retryable) throw failure;
      } catch (err) {
        if (err instanceof NomadApiError && !err.retryable) throw err;
        if (userSignal?.aborted) throw userSignal.reason ?? err;
        failure = err instanceof NomadApiError ? err : new NomadUnreachableError(method, path, err);
      }
      if (attempt >= retries) throw failure;
      const delay = base * 2 ** attempt * (0.5 + Math.random() / 2);
      await sleep(delay, userSignal);
    }
  }

  private url(path: string, opts: RequestOptions): string {
    const params = new URLSearchParams();
    const add = (k: string, v: string | number | boolean | undefined) => {
      if (v !== undefined && v !== '') params.append(k, String(v));
    };
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (Array.isArray(v)) v.forEach((part) => add(k, part));
      else add(k, v);
    }
    add('namespace', this.opts.namespace);
    add('region', this.opts.region);
    if (opts.blocking?.index !== undefined) {
      add('index', opts.blocking.index);
      add('wait', `${Math.max(1, Math.round(Math.min(opts.blocking.waitMs ?? 300_000, MAX_WAIT_MS) / 1000))}s`);
    }
    const qs = params.toString();
    return `${this.base}${path}${qs ? `?${qs}` : ''}`;
  }
}

/** Up, eligible, not draining: the nodes the driver counts as capacity. */
export function isSchedulable(node: NodeListStub): boolean {
  return node.Status === 'ready' && node.SchedulingEligibility === 'eligible' && node.Drain !== true;
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function anySignal(signals: (AbortSignal | undefined)[]): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
