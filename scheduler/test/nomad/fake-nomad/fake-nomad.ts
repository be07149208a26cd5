/**
 * A fake Nomad server for tests (not product code). It serves the subset of the HTTP API the
 * client uses, checks every request against Nomad's OpenAPI specification (spec-validator.ts) and
 * records each departure as a violation (answered with 400, so the test also sees it), keeps
 * jobs/evaluations/allocations/nodes (state.ts), really runs dispatched tasks as local processes
 * (task-process.ts), and supports blocking queries, the NDJSON event stream and node failure.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AllocationListStub, Job } from '../../../src/nomad/api-types.js';
import { ClusterState, HttpError, type FakeAlloc, type StateOptions } from './state.js';
import { SpecValidator } from './spec-validator.js';

export interface FakeNomadOptions extends Partial<StateOptions> {
  /** When set, requests without this X-Nomad-Token (or Bearer) get 403. */
  token?: string;
  port?: number;
  /** Heartbeat interval of the event stream. */
  heartbeatMs?: number;
  /** Serve HTTPS with this certificate; with `ca`, clients must present a certificate it signed (verify_https_client). */
  tls?: { cert: string; key: string; ca?: string };
}

let sharedValidator: SpecValidator | undefined;

export class FakeNomad implements AsyncDisposable {
  readonly state: ClusterState;
  readonly violations: string[] = [];
  /** Every request seen, for assertions (method, path with query). */
  readonly requests: { method: string; url: string; token?: string }[] = [];
  private readonly validator: SpecValidator;
  private server: Server | undefined;
  private port = 0;
  private readonly failures: { status: number; body: string; match?: RegExp; after?: boolean }[] = [];
  private readonly streams = new Set<ServerResponse>();

  constructor(private readonly opts: FakeNomadOptions = {}) {
    this.validator = sharedValidator ??= new SpecValidator();
    this.state = new ClusterState({
      namespace: opts.namespace ?? 'default',
      region: opts.region ?? 'global',
      nodeEnv: opts.nodeEnv ?? { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      rewrite: opts.rewrite,
    });
  }

  static async start(opts: FakeNomadOptions = {}): Promise<FakeNomad> {
    const fake = new FakeNomad(opts);
    await fake.listen(opts.port ?? 0);
    return fake;
  }

  get address(): string {
    return `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The next `count` requests (matching `match`, when given) fail with a plain-text error. */
  failNext(count: number, status = 500, body = 'rpc error: No cluster leader', match?: RegExp): void {
    for (let i = 0; i < count; i++) this.failures.push({ status, body, match });
  }

  /**
   * The next `count` matching requests are carried out, but answered with an error: the client
   * cannot tell whether they happened (a lost response).
   */
  failAfterProcessing(count: number, match: RegExp, status = 502, body = 'upstream connection reset'): void {
    for (let i = 0; i < count; i++) this.failures.push({ status, body, match, after: true });
  }

  /** Stops answering (connection refused) until `resume()`: Nomad unreachable. */
  async pause(): Promise<void> {
    for (const s of this.streams) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  async resume(): Promise<void> {
    await this.listen(this.port);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.pause();
    this.state.shutdown();
  }

  private async listen(port: number): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    const tls = this.opts.tls;
    const server: Server = tls
      ? createTlsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: Boolean(tls.ca), rejectUnauthorized: Boolean(tls.ca) }, handler)
      : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const token = (req.headers['x-nomad-token'] as string | undefined) ?? /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    this.requests.push({ method, url: `${url.pathname}${url.search}`, token });
    const text = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(message);
    };
    const problems = this.validator.checkRequest(method, url, req.headers, body);
    if (problems.length > 0) {
      this.violations.push(...problems);
      return text(400, `fake nomad: request violates the specification:\n${problems.join('\n')}`);
    }
    if (this.opts.token && token !== this.opts.token) return text(403, 'Permission denied');
    const failure = this.failures.findIndex((f) => !f.match || f.match.test(url.pathname));
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      if (!f!.after) return text(f!.status, f!.body);
      // Let the request take effect, then replace whatever it answered with the error.
      const writeHead = res.writeHead.bind(res);
      const end = res.end.bind(res);
      res.writeHead = (() => res) as never;
      res.end = (() => {
        writeHead(f!.status, { 'content-type': 'text/plain' });
        return end(f!.body);
      }) as never;
    }
    try {
      await this.route(method, url, body ? JSON.parse(body) : undefined, req, res);
    } catch (err) {
      if (err instanceof HttpError) return text(err.status, err.message);
      text(500, `fake nomad: ${(err as Error).stack}`);
    }
  }

  private async route(method: string, url: URL, body: any, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { op, pathParams } = this.validator.match(method, url.pathname)!;
    const q = url.searchParams;
    const s = this.state;
    let table = 'Job';
    const respond = (value: unknown, status = 200) => {
      const problems = this.validator.checkResponse(method, url.pathname, status, value);
      if (problems.length > 0) this.violations.push(...problems.map((p) => `fake's own ${p}`));
      res.writeHead(status, { 'content-type': 'application/json', 'x-nomad-index': String(s.indexOf(table)), 'x-nomad-knownleader': 'true' });
      res.end(JSON.stringify(value));
    };
    // Blocking queries: hold the answer until the index moves past `index` or `wait` passes.
    const block = async (on: string) => {
      table = on;
      const index = q.get('index');
      if (index === null || s.indexOf(table) > Number(index)) return;
      const waitMs = parseWait(q.get('wait') ?? '5m');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        const off = s.onChange(() => s.indexOf(table) > Number(index) && done());
        req.once('close', done);
        function done() {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    };
    const jobId = pathParams.jobName;
    const resources = q.get('resources') === 'true';
    switch (`${method} ${op.path}`) {
      case 'POST /jobs':
      case 'POST /job/{jobName}': {
        const job = body.Job as Job;
        if (!job?.ID) throw new HttpError(400, 'Job ID does not match name');
        if (jobId && jobId !== job.ID) throw new HttpError(400, 'Job ID does not match name');
        const { evalId, index } = s.register(job);
        return respond({ EvalID: evalId ?? '', EvalCreateIndex: index, JobModifyIndex: index, LastIndex: index, KnownLeader: true, Warnings: '' });
      }
      case 'GET /jobs': {
        await block('Job');
        const prefix = q.get('prefix') ?? '';
        return respond([...s.jobs.values()].filter((j) => j.ID!.startsWith(prefix)).map(jobStub));
      }
      case 'GET /job/{jobName}': {
        await block('Job');
        const job = s.jobs.get(jobId!);
        if (!job) throw new HttpError(404, 'job not found');
        return respond(job);
      }
      case 'DELETE /job/{jobName}': {
        const evalId = s.stop(jobId!, q.get('purge') === 'true');
        return respond({ EvalID: evalId, EvalCreateIndex: s.index, JobModifyIndex: s.index, LastIndex: s.index });
      }
      case 'POST /job/{jobName}/dispatch': {
        if (body.JobID !== undefined && body.JobID !== jobId) throw new HttpError(400, 'JobID does not match');
        const { child, evalId } = s.dispatch(jobId!, body.Meta ?? {}, body.Payload, q.get('idempotency_token') ?? undefined);
        return respond({ DispatchedJobID: child.ID, EvalID: evalId, EvalCreateIndex: s.index, JobCreateIndex: child.CreateIndex, LastIndex: s.index, RequestTime: 1 });
      }
      case 'GET /job/{jobName}/allocations':
        await block('Allocation');
        if (!s.jobs.has(jobId!)) throw new HttpError(404, 'job not found');
        return respond([...s.allocs.values()].filter((a) => a.stub.JobID === jobId).map((a) => allocStub(a, false)));
      case 'GET /job/{jobName}/evaluations':
        await block('Evaluation');
        return respond([...s.evals.values()].filter((e) => e.JobID === jobId));
      case 'POST /job/{jobName}/scale': {
        const group = body.Target?.Group;
        if (typeof body.Count !== 'number' || !group) throw new HttpError(400, 'scaling needs Count and Target.Group');
        const evalId = s.scale(jobId!, group, body.Count, body.Message);
        return respond({ EvalID: evalId, EvalCreateIndex: s.index, JobModifyIndex: s.index, LastIndex: s.index });
      }
      case 'GET /job/{jobName}/scale': {
        await block('Job');
        const job = s.jobs.get(jobId!);
        if (!job) throw new HttpError(404, 'job not found');
        const groups = Object.fromEntries(
          (job.TaskGroups ?? []).map((g) => {
            const live = s.liveAllocs(job.ID).filter((a) => a.stub.TaskGroup === g.Name);
            return [
              g.Name!,
              {
                Desired: g.Count ?? 1,
                Placed: live.length,
                Running: live.filter((a) => a.stub.ClientStatus === 'running').length,
                Healthy: 0,
                Unhealthy: 0,
                Events: s.scalingEvents.get(`${job.ID}\0${g.Name}`) ?? [],
              },
            ];
          }),
        );
        return respond({ JobID: job.ID, Namespace: job.Namespace, JobStopped: job.Stop, JobCreateIndex: job.CreateIndex, JobModifyIndex: job.JobModifyIndex, TaskGroups: groups });
      }
      case 'GET /allocations': {
        await block('Allocation');
        const prefix = q.get('prefix') ?? '';
        return respond([...s.allocs.values()].filter((a) => a.stub.ID.startsWith(prefix)).map((a) => allocStub(a, resources)));
      }
      case 'GET /allocation/{allocID}': {
        await block('Allocation');
        const alloc = s.allocs.get(pathParams.allocID!);
        if (!alloc) throw new HttpError(404, 'alloc not found');
        // The full allocation embeds the job instead of the stub's JobType/JobVersion.
        const { JobType: _t, JobVersion: _v, ...full } = allocStub(alloc, true);
        return respond({ ...full, Job: s.jobs.get(alloc.stub.JobID) });
      }
      case 'GET /evaluations':
        await block('Evaluation');
        return respond([...s.evals.values()]);
      case 'GET /evaluation/{evalID}': {
        await block('Evaluation');
        const ev = s.evals.get(pathParams.evalID!);
        if (!ev) throw new HttpError(404, 'eval not found');
        return respond(ev);
      }
      case 'GET /nodes':
        await block('Node');
        return respond([...s.nodes.values()].map((n) => s.nodeStub(n, resources)));
      case 'GET /client/fs/logs/{alloc_id}': {
        const alloc = s.allocs.get(pathParams.alloc_id!);
        const task = alloc?.tasks.get(q.get('task') ?? '');
        if (!alloc || !task) throw new HttpError(404, 'Unknown allocation or task');
        const data = (q.get('type') === 'stderr' ? task.stderr : task.stdout).join('');
        if (q.get('plain') === 'true') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          return void res.end(data);
        }
        return respond({ File: `alloc/logs/${q.get('task')}.${q.get('type')}.0`, Offset: Buffer.byteLength(data), Data: Buffer.from(data).toString('base64') });
      }
      case 'GET /event/stream':
        return this.stream(q, req, res);
      default:
        throw new HttpError(404, `fake nomad does not implement ${method} ${op.path}`);
    }
  }

  /** NDJSON: frames after `index` for the requested topics, then live ones, with `{}` heartbeats. */
  private stream(q: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const topics = q.getAll('topic').map((t) => t.split(':')[0]!);
    const wanted = (topic: string) => topics.length === 0 || topics.includes('*') || topics.includes(topic);
    let sent = Number(q.get('index') ?? 0);
    res.writeHead(200, { 'content-type': 'application/json' });
    this.streams.add(res);
    const flush = () => {
      for (const frame of this.state.history) {
        if (frame.Index <= sent) continue;
        sent = frame.Index;
        const events = frame.Events.filter((e) => wanted(e.Topic));
        if (events.length) res.write(`${JSON.stringify({ Index: frame.Index, Events: events })}\n`);
      }
    };
    flush();
    const off = this.state.onChange(flush);
    const heartbeat = setInterval(() => res.write('{}\n'), this.opts.heartbeatMs ?? 10_000);
    const close = () => {
      off();
      clearInterval(heartbeat);
      this.streams.delete(res);
    };
    req.once('close', close);
    res.once('close', close);
  }
}

function parseWait(wait: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(wait)!;
  const n = Number(m[1]);
  return Math.min(m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000, 10 * 60_000);
}

function allocStub(alloc: FakeAlloc, resources: boolean): AllocationListStub {
  const stub: AllocationListStub = structuredClone(alloc.stub);
  if (resources) {
    stub.AllocatedResources = {
      Tasks: Object.fromEntries([...Object.keys(alloc.stub.TaskStates ?? {})].map((t) => [t, {}])),
      Shared: { DiskMB: 0 },
    };
    // The group's whole ask, on its first task: the driver only sums them.
    const first = Object.keys(stub.AllocatedResources.Tasks!)[0] ?? 'task';
    stub.AllocatedResources.Tasks![first] = { Cpu: { CpuShares: alloc.cpu }, Memory: { MemoryMB: alloc.memoryMB } };
  }
  return stub;
}

function jobStub(job: Job) {
  return {
    ID: job.ID,
    ParentID: job.ParentID ?? '',
    Name: job.Name,
    Namespace: job.Namespace,
    Datacenters: job.Datacenters,
    Type: job.Type,
    Priority: job.Priority,
    Periodic: false,
    ParameterizedJob: job.ParameterizedJob !== undefined,
    Stop: job.Stop,
    Status: job.Status,
    StatusDescription: '',
    CreateIndex: job.CreateIndex,
    ModifyIndex: job.ModifyIndex,
    JobModifyIndex: job.JobModifyIndex,
    SubmitTime: job.SubmitTime,
  };
}
