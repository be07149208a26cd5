/**
 * The fake Nomad's cluster state: jobs, evaluations, allocations and nodes, one Raft-like index,
 * placement by free resources, and allocations that really run (task-process.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AllocationListStub, Evaluation, Job, NodeListStub, TaskGroup } from '../../../src/nomad/api-types.js';
import type { NomadEvent } from '../../../src/nomad/event-stream.js';
import { killTask, startTask, type RunningTask, type TaskContext } from './task-process.js';

export interface FakeNode {
  ID: string;
  Name: string;
  Datacenter: string;
  Status: 'ready' | 'down' | 'initializing';
  SchedulingEligibility: 'eligible' | 'ineligible';
  Drain: boolean;
  CpuShares: number;
  MemoryMB: number;
  ReservedCpu: number;
  ReservedMemoryMB: number;
  ModifyIndex: number;
  CreateIndex: number;
}

export interface FakeAlloc {
  stub: Required<Pick<AllocationListStub, 'ID' | 'EvalID' | 'Name' | 'JobID' | 'JobType' | 'TaskGroup' | 'DesiredStatus' | 'ClientStatus' | 'CreateIndex' | 'ModifyIndex' | 'CreateTime' | 'ModifyTime' | 'Namespace'>> &
    AllocationListStub;
  cpu: number;
  memoryMB: number;
  tasks: Map<string, RunningTask>;
  dir: string;
}

export interface StateOptions {
  namespace: string;
  region: string;
  nodeEnv: Record<string, string>;
  rewrite?: TaskContext['rewrite'];
}

const now = () => Date.now() * 1_000_000;
const LIVE = new Set(['pending', 'running']);

export class ClusterState {
  index = 1;
  /** Like Nomad's state store, each table has the index of its last change: blocking queries on nodes do not wake for allocations. */
  readonly tableIndex = new Map<string, number>();
  readonly jobs = new Map<string, Job>();
  readonly evals = new Map<string, Evaluation>();
  readonly allocs = new Map<string, FakeAlloc>();
  readonly nodes = new Map<string, FakeNode>();
  /** Dispatched children by `parent\0token`, for idempotent dispatch. */
  readonly dispatchTokens = new Map<string, string>();
  /** Placements that found no room; retried whenever capacity changes. */
  private readonly blocked: { jobId: string; group: TaskGroup; evalId: string }[] = [];
  readonly history: { Index: number; Events: NomadEvent[] }[] = [];
  private readonly listeners = new Set<() => void>();
  private readonly root = mkdtempSync(join(tmpdir(), 'fake-nomad-'));
  /** Every dispatch the fake accepted (for double-dispatch assertions). */
  readonly dispatchLog: { parent: string; child: string; token: string; meta: Record<string, string> }[] = [];

  constructor(private readonly opts: StateOptions) {}

  /** Commits a change: a new index, its events, and wakes blocking queries and event streams. */
  commit(events: Omit<NomadEvent, 'Index'>[]): number {
    this.index++;
    for (const e of events) this.tableIndex.set(e.Topic, this.index);
    const frame = { Index: this.index, Events: events.map((e) => ({ ...e, Index: this.index, Namespace: this.opts.namespace })) };
    this.history.push(frame);
    if (this.history.length > 5000) this.history.shift();
    for (const l of [...this.listeners]) l();
    return this.index;
  }

  indexOf(table: string): number {
    return this.tableIndex.get(table) ?? 1;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  addNode(name: string, opts: { cpu?: number; memoryMB?: number; datacenter?: string } = {}): FakeNode {
    const node: FakeNode = {
      ID: randomUUID(),
      Name: name,
      Datacenter: opts.datacenter ?? 'dc1',
      Status: 'ready',
      SchedulingEligibility: 'eligible',
      Drain: false,
      CpuShares: opts.cpu ?? 4000,
      MemoryMB: opts.memoryMB ?? 8192,
      ReservedCpu: 100,
      ReservedMemoryMB: 256,
      ModifyIndex: 0,
      CreateIndex: 0,
    };
    this.nodes.set(node.ID, node);
    node.CreateIndex = node.ModifyIndex = this.commit([{ Topic: 'Node', Type: 'NodeRegistration', Key: node.ID, Payload: { Node: this.nodeStub(node) } }]);
    this.placeBlocked();
    return node;
  }

  /** The node stops heartbeating: its allocations become lost and their processes die with it. */
  markNodeDown(nodeId: string): void {
    const node = this.mustNode(nodeId);
    node.Status = 'down';
    node.ModifyIndex = this.commit([{ Topic: 'Node', Type: 'NodeEvent', Key: node.ID, Payload: { Node: this.nodeStub(node) } }]);
    for (const alloc of this.allocs.values()) {
      if (alloc.stub.NodeID !== nodeId || !LIVE.has(alloc.stub.ClientStatus)) continue;
      for (const t of alloc.tasks.values()) killTask(t, 'SIGKILL');
      this.setAllocStatus(alloc, 'lost', 'alloc is lost since its node is down');
    }
  }

  setNode(nodeId: string, change: Partial<Pick<FakeNode, 'Status' | 'SchedulingEligibility' | 'Drain'>>): void {
    const node = this.mustNode(nodeId);
    Object.assign(node, change);
    node.ModifyIndex = this.commit([{ Topic: 'Node', Type: 'NodeEvent', Key: node.ID, Payload: { Node: this.nodeStub(node) } }]);
    this.placeBlocked();
  }

  nodeStub(node: FakeNode, resources = false): NodeListStub {
    const stub: NodeListStub = {
      ID: node.ID,
      Name: node.Name,
      Datacenter: node.Datacenter,
      NodeClass: '',
      Address: '127.0.0.1',
      Status: node.Status,
      StatusDescription: '',
      SchedulingEligibility: node.SchedulingEligibility,
      Drain: node.Drain,
      Version: '1.1.4',
      Drivers: { raw_exec: { Detected: true, Healthy: true } },
      Attributes: { 'kernel.name': 'linux' },
      CreateIndex: node.CreateIndex,
      ModifyIndex: node.ModifyIndex,
    };
    if (resources) {
      stub.NodeResources = { Cpu: { CpuShares: node.CpuShares }, Memory: { MemoryMB: node.MemoryMB } };
      stub.ReservedResources = { Cpu: { CpuShares: node.ReservedCpu }, Memory: { MemoryMB: node.ReservedMemoryMB } };
    }
    return stub;
  }

  register(job: Job): { evalId?: string; index: number } {
    const existing = this.jobs.get(job.ID!);
    const stored: Job = {
      ...job,
      Namespace: this.opts.namespace,
      Region: this.opts.region,
      Status: job.ParameterizedJob ? 'running' : 'pending',
      Stop: false,
      Version: existing ? (existing.Version ?? 0) + 1 : 0,
      SubmitTime: now(),
      CreateIndex: existing?.CreateIndex ?? this.index + 1,
    };
    this.jobs.set(job.ID!, stored);
    const index = this.commit([{ Topic: 'Job', Type: 'JobRegistered', Key: job.ID!, Payload: { Job: stored } }]);
    stored.ModifyIndex = stored.JobModifyIndex = index;
    // A parameterized job is a template: only its dispatched children get allocations.
    if (job.ParameterizedJob) return { index };
    const evalId = this.newEval(stored, 'job-register');
    for (const group of stored.TaskGroups ?? []) this.scaleGroupTo(stored, group, evalId);
    return { evalId, index: this.index };
  }

  dispatch(parentId: string, meta: Record<string, string>, payload: string | undefined, token: string | undefined): { child: Job; evalId: string; existing: boolean } {
    const parent = this.jobs.get(parentId);
    if (!parent) throw new HttpError(404, 'job not found');
    const cfg = parent.ParameterizedJob;
    if (!cfg) throw new HttpError(400, `Specified job "${parentId}" is not a parameterized job`);
    if (token) {
      const prior = this.dispatchTokens.get(`${parentId}\0${token}`);
      const child = prior ? this.jobs.get(prior) : undefined;
      if (child) return { child, evalId: [...this.evals.values()].find((e) => e.JobID === child.ID)?.ID ?? '', existing: true };
    }
    const required = cfg.MetaRequired ?? [];
    const allowed = new Set([...required, ...(cfg.MetaOptional ?? [])]);
    const missing = required.filter((k) => !(k in meta));
    if (missing.length) throw new HttpError(400, `Dispatch did not provide required meta keys: [${missing.join(' ')}]`);
    const extra = Object.keys(meta).filter((k) => !allowed.has(k));
    if (extra.length) throw new HttpError(400, `Dispatch includes unpermitted metadata keys: [${extra.join(' ')}]`);
    if (cfg.Payload === 'required' && !payload) throw new HttpError(400, 'Payload is not provided but required by parameterized job');
    if (cfg.Payload === 'forbidden' && payload) throw new HttpError(400, 'Payload provided but forbidden by parameterized job');
    if (payload && Buffer.from(payload, 'base64').length > 16 * 1024) throw new HttpError(400, 'Payload exceeds maximum size; 16384 > 16384');
    const id = `${parentId}/dispatch-${Math.floor(Date.now() / 1000)}-${randomUUID().slice(0, 8)}`;
    const child: Job = {
      ...structuredClone(parent),
      ID: id,
      Name: id,
      ParentID: parentId,
      Dispatched: true,
      ParameterizedJob: undefined,
      Meta: { ...parent.Meta, ...meta },
      Payload: payload,
      DispatchIdempotencyToken: token,
      Status: 'pending',
      Version: 0,
      SubmitTime: now(),
    };
    this.jobs.set(id, child);
    if (token) this.dispatchTokens.set(`${parentId}\0${token}`, id);
    this.dispatchLog.push({ parent: parentId, child: id, token: token ?? '', meta });
    child.CreateIndex = child.ModifyIndex = child.JobModifyIndex = this.commit([{ Topic: 'Job', Type: 'JobRegistered', Key: id, Payload: { Job: child } }]);
    const evalId = this.newEval(child, 'job-register');
    for (const group of child.TaskGroups ?? []) this.scaleGroupTo(child, group, evalId);
    return { child, evalId, existing: false };
  }

  /** Stops a job: its allocations are told to stop and their processes get SIGTERM. */
  stop(jobId: string, purge: boolean): string {
    const job = this.jobs.get(jobId);
    if (!job) throw new HttpError(404, 'job not found');
    job.Stop = true;
    job.Status = 'dead';
    const evalId = this.newEval(job, 'job-deregister');
    for (const alloc of this.allocs.values()) if (alloc.stub.JobID === jobId) this.stopAlloc(alloc);
    if (purge) this.jobs.delete(jobId);
    this.commit([{ Topic: 'Job', Type: 'JobDeregistered', Key: jobId, Payload: { Job: job } }]);
    return evalId;
  }

  scale(jobId: string, groupName: string, count: number, message: string | undefined): string {
    const job = this.jobs.get(jobId);
    if (!job) throw new HttpError(404, 'job not found');
    const group = job.TaskGroups?.find((g) => g.Name === groupName);
    if (!group) throw new HttpError(400, `task group "${groupName}" specified for scaling does not exist in job`);
    const previous = group.Count ?? 1;
    group.Count = count;
    const evalId = this.newEval(job, 'job-scaling');
    const events = (this.scalingEvents.get(`${jobId}\0${groupName}`) ?? []).concat({ Count: count, PreviousCount: previous, Message: message ?? '', EvalID: evalId, Time: now() });
    this.scalingEvents.set(`${jobId}\0${groupName}`, events);
    this.scaleGroupTo(job, group, evalId);
    return evalId;
  }
  readonly scalingEvents = new Map<string, { Count: number; PreviousCount: number; Message: string; EvalID: string; Time: number }[]>();

  liveAllocs(jobId?: string): FakeAlloc[] {
    return [...this.allocs.values()].filter((a) => LIVE.has(a.stub.ClientStatus) && (!jobId || a.stub.JobID === jobId));
  }

  /** Kills every running task (test cleanup). */
  shutdown(): void {
    for (const alloc of this.allocs.values()) for (const t of alloc.tasks.values()) killTask(t, 'SIGKILL');
    rmSync(this.root, { recursive: true, force: true });
  }

  private scaleGroupTo(job: Job, group: TaskGroup, evalId: string): void {
    const live = this.liveAllocs(job.ID).filter((a) => a.stub.TaskGroup === group.Name && a.stub.DesiredStatus === 'run');
    const want = group.Count ?? 1;
    for (const extra of live.slice(want)) this.stopAlloc(extra);
    for (let i = live.length; i < want; i++) this.place(job.ID!, group, evalId);
  }

  private newEval(job: Job, triggeredBy: string): string {
    const ev: Evaluation = {
      ID: randomUUID(),
      JobID: job.ID,
      Namespace: this.opts.namespace,
      Priority: job.Priority ?? 50,
      Type: job.Type ?? 'service',
      TriggeredBy: triggeredBy,
      Status: 'complete',
      CreateTime: now(),
      ModifyTime: now(),
    };
    this.evals.set(ev.ID!, ev);
    ev.CreateIndex = ev.ModifyIndex = this.commit([{ Topic: 'Evaluation', Type: 'EvaluationUpdated', Key: ev.ID!, Payload: { Evaluation: ev } }]);
    return ev.ID!;
  }

  private place(jobId: string, group: TaskGroup, evalId: string): void {
    const job = this.jobs.get(jobId)!;
    const cpu = (group.Tasks ?? []).reduce((n, t) => n + (t.Resources?.CPU ?? 100), 0);
    const memoryMB = (group.Tasks ?? []).reduce((n, t) => n + (t.Resources?.MemoryMB ?? 300), 0);
    const node = this.pickNode(cpu, memoryMB);
    const ev = this.evals.get(evalId)!;
    if (!node) {
      ev.Status = 'blocked';
      ev.StatusDescription = 'no node has room';
      ev.ModifyIndex = this.commit([{ Topic: 'Evaluation', Type: 'EvaluationUpdated', Key: ev.ID!, Payload: { Evaluation: ev } }]);
      this.blocked.push({ jobId, group, evalId });
      return;
    }
    const id = randomUUID();
    const alloc: FakeAlloc = {
      stub: {
        ID: id,
        EvalID: evalId,
        Name: `${jobId}.${group.Name}[0]`,
        Namespace: this.opts.namespace,
        NodeID: node.ID,
        NodeName: node.Name,
        JobID: jobId,
        JobType: job.Type ?? 'service',
        JobVersion: job.Version ?? 0,
        TaskGroup: group.Name!,
        DesiredStatus: 'run',
        ClientStatus: 'pending',
        ClientDescription: 'No tasks have started',
        CreateIndex: 0,
        ModifyIndex: 0,
        CreateTime: now(),
        ModifyTime: now(),
        TaskStates: {},
      },
      cpu,
      memoryMB,
      tasks: new Map(),
      dir: join(this.root, id),
    };
    this.allocs.set(id, alloc);
    alloc.stub.CreateIndex = alloc.stub.ModifyIndex = this.commit([allocEvent(alloc)]);
    if (ev.Status === 'blocked') {
      ev.Status = 'complete';
      ev.ModifyIndex = this.commit([{ Topic: 'Evaluation', Type: 'EvaluationUpdated', Key: ev.ID!, Payload: { Evaluation: ev } }]);
    }
    // Start asynchronously, as a client picks up its allocation after the server placed it.
    setImmediate(() => this.startAlloc(alloc, job, group, node));
  }

  private startAlloc(alloc: FakeAlloc, job: Job, group: TaskGroup, node: FakeNode): void {
    if (alloc.stub.ClientStatus !== 'pending' || alloc.stub.DesiredStatus !== 'run') return;
    let remaining = (group.Tasks ?? []).length;
    let failed = false;
    for (const task of group.Tasks ?? []) {
      let running: RunningTask;
      try {
        running = startTask({
          job,
          group: group.Name!,
          task,
          allocId: alloc.stub.ID,
          allocName: alloc.stub.Name,
          allocDir: alloc.dir,
          node,
          namespace: this.opts.namespace,
          region: this.opts.region,
          nodeEnv: this.opts.nodeEnv,
          rewrite: this.opts.rewrite,
        });
      } catch (err) {
        alloc.stub.TaskStates![task.Name!] = { State: 'dead', Failed: true, Events: [{ Type: 'Driver Failure', DriverError: (err as Error).message }] };
        this.setAllocStatus(alloc, 'failed', (err as Error).message);
        return;
      }
      alloc.tasks.set(task.Name!, running);
      alloc.stub.TaskStates![task.Name!] = { State: 'running', Failed: false, StartedAt: new Date().toISOString(), Events: [{ Type: 'Started' }] };
      running.child.on('error', (err) => running.stderr.push(`spawn error: ${err.message}\n`));
      running.child.on('exit', (code, signal) => {
        const state = alloc.stub.TaskStates![task.Name!]!;
        state.State = 'dead';
        state.FinishedAt = new Date().toISOString();
        state.Failed = code !== 0;
        state.Events!.push({ Type: 'Terminated', ExitCode: code ?? 137, Details: signal ? { signal } : {} });
        failed ||= code !== 0;
        if (--remaining > 0) return;
        // Lost and stopped allocations keep the status they were given.
        if (!LIVE.has(alloc.stub.ClientStatus)) return;
        this.setAllocStatus(alloc, alloc.stub.DesiredStatus === 'stop' ? 'complete' : failed ? 'failed' : 'complete', failed ? 'Failed tasks' : 'All tasks have completed');
      });
    }
    this.setAllocStatus(alloc, 'running', 'Tasks are running');
  }

  private stopAlloc(alloc: FakeAlloc): void {
    if (!LIVE.has(alloc.stub.ClientStatus)) return;
    alloc.stub.DesiredStatus = 'stop';
    alloc.stub.DesiredDescription = 'alloc is being stopped';
    if (alloc.tasks.size === 0) return this.setAllocStatus(alloc, 'complete', 'stopped before it started');
    alloc.stub.ModifyIndex = this.commit([allocEvent(alloc)]);
    for (const t of alloc.tasks.values()) killTask(t, 'SIGTERM');
  }

  private setAllocStatus(alloc: FakeAlloc, status: string, description: string): void {
    alloc.stub.ClientStatus = status;
    alloc.stub.ClientDescription = description;
    alloc.stub.ModifyTime = now();
    alloc.stub.ModifyIndex = this.commit([allocEvent(alloc)]);
    if (!LIVE.has(status)) {
      const job = this.jobs.get(alloc.stub.JobID);
      if (job && job.Type !== 'service' && this.liveAllocs(job.ID).length === 0) job.Status = 'dead';
      this.placeBlocked();
    } else {
      const job = this.jobs.get(alloc.stub.JobID);
      if (job && !job.Stop) job.Status = 'running';
    }
  }

  private pickNode(cpu: number, memoryMB: number): FakeNode | undefined {
    let best: FakeNode | undefined;
    let bestFree = -1;
    for (const node of this.nodes.values()) {
      if (node.Status !== 'ready' || node.SchedulingEligibility !== 'eligible' || node.Drain) continue;
      const used = this.liveAllocs().filter((a) => a.stub.NodeID === node.ID);
      const freeCpu = node.CpuShares - node.ReservedCpu - used.reduce((n, a) => n + a.cpu, 0);
      const freeMem = node.MemoryMB - node.ReservedMemoryMB - used.reduce((n, a) => n + a.memoryMB, 0);
      if (freeCpu < cpu || freeMem < memoryMB) continue;
      // Spread: the emptiest node first, so a node going down in a test takes only some agents.
      if (freeMem > bestFree) {
        best = node;
        bestFree = freeMem;
      }
    }
    return best;
  }

  private placeBlocked(): void {
    const waiting = this.blocked.splice(0);
    for (const b of waiting) {
      const job = this.jobs.get(b.jobId);
      if (job && !job.Stop) this.place(b.jobId, b.group, b.evalId);
    }
  }

  private mustNode(id: string): FakeNode {
    const node = this.nodes.get(id) ?? [...this.nodes.values()].find((n) => n.Name === id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function allocEvent(alloc: FakeAlloc): Omit<NomadEvent, 'Index'> {
  return { Topic: 'Allocation', Type: 'AllocationUpdated', Key: alloc.stub.ID, Payload: { Allocation: { ...alloc.stub } } };
}
