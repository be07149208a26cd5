/**
 * Runs a placed task as a local process with the environment a Nomad client gives it
 * (raw_exec semantics: the host's filesystem, the task's Env interpolated, NOMAD_* variables,
 * the dispatch payload written under the task's local/ directory).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job, Task } from '../../../src/nomad/api-types.js';

export interface TaskContext {
  job: Job;
  group: string;
  task: Task;
  allocId: string;
  allocName: string;
  allocDir: string;
  node: { ID: string; Name: string; Datacenter: string };
  namespace: string;
  region: string;
  /** The node's own environment (raw_exec passes the client's environment through). */
  nodeEnv: Record<string, string>;
  /** Maps the command and args of the job to ones that exist on this machine. */
  rewrite?: (command: string, args: string[]) => { command: string; args: string[] };
}

export interface RunningTask {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  env: Record<string, string>;
}

const LOG_CAP = 1 << 20;

/** The NOMAD_* variables (and the interpolated task Env) for one task of one allocation. */
export function taskEnvironment(ctx: TaskContext): Record<string, string> {
  const taskDir = join(ctx.allocDir, ctx.task.Name!);
  const env: Record<string, string> = {
    NOMAD_ALLOC_ID: ctx.allocId,
    NOMAD_ALLOC_NAME: ctx.allocName,
    NOMAD_ALLOC_INDEX: '0',
    NOMAD_ALLOC_DIR: join(ctx.allocDir, 'alloc'),
    NOMAD_TASK_DIR: join(taskDir, 'local'),
    NOMAD_SECRETS_DIR: join(taskDir, 'secrets'),
    NOMAD_TASK_NAME: ctx.task.Name!,
    NOMAD_GROUP_NAME: ctx.group,
    NOMAD_JOB_ID: ctx.job.ID!,
    NOMAD_JOB_NAME: ctx.job.Name ?? ctx.job.ID!,
    NOMAD_NAMESPACE: ctx.namespace,
    NOMAD_REGION: ctx.region,
    NOMAD_DC: ctx.node.Datacenter,
    NOMAD_CPU_LIMIT: String(ctx.task.Resources?.CPU ?? 100),
    NOMAD_MEMORY_LIMIT: String(ctx.task.Resources?.MemoryMB ?? 300),
  };
  if (ctx.job.ParentID) env.NOMAD_JOB_PARENT_ID = ctx.job.ParentID;
  for (const [k, v] of Object.entries({ ...ctx.job.Meta, ...ctx.task.Meta })) {
    env[`NOMAD_META_${k}`] = v;
    env[`NOMAD_META_${k.toUpperCase()}`] = v;
  }
  const vars: Record<string, string> = {
    ...env,
    'node.unique.id': ctx.node.ID,
    'node.unique.name': ctx.node.Name,
    'node.datacenter': ctx.node.Datacenter,
  };
  // Unknown references stay as written, as Nomad leaves them.
  const interpolate = (s: string) => s.replace(/\$\{([^}]+)\}/g, (whole, name: string) => vars[name.trim()] ?? whole);
  const taskEnv = Object.fromEntries(Object.entries(ctx.task.Env ?? {}).map(([k, v]) => [k, interpolate(v)]));
  return { ...ctx.nodeEnv, ...env, ...taskEnv };
}

/** Starts the task; the caller watches `child` for its exit. */
export function startTask(ctx: TaskContext): RunningTask {
  const env = taskEnvironment(ctx);
  for (const dir of [env.NOMAD_ALLOC_DIR!, env.NOMAD_TASK_DIR!, env.NOMAD_SECRETS_DIR!]) mkdirSync(dir, { recursive: true });
  const payloadFile = ctx.task.DispatchPayload?.File;
  if (payloadFile && ctx.job.Payload) writeFileSync(join(env.NOMAD_TASK_DIR!, payloadFile), Buffer.from(ctx.job.Payload, 'base64'));
  const config = (ctx.task.Config ?? {}) as { command?: string; args?: string[] };
  if (ctx.task.Driver !== 'raw_exec' && ctx.task.Driver !== 'exec') throw new Error(`fake Nomad runs raw_exec/exec tasks only, not ${ctx.task.Driver}`);
  if (!config.command) throw new Error(`task ${ctx.task.Name} has no command`);
  const interpolateArg = (s: string) => s.replace(/\$\{([^}]+)\}/g, (whole, name: string) => env[name.trim()] ?? whole);
  let command = interpolateArg(config.command);
  let args = (config.args ?? []).map(interpolateArg);
  if (ctx.rewrite) ({ command, args } = ctx.rewrite(command, args));
  const child = spawn(command, args, { env, cwd: join(ctx.allocDir, ctx.task.Name!), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const running: RunningTask = { child, stdout: [], stderr: [], env };
  const capture = (into: string[]) => {
    let size = 0;
    return (chunk: Buffer) => {
      if (size >= LOG_CAP) return;
      size += chunk.length;
      into.push(chunk.toString());
    };
  };
  child.stdout!.on('data', capture(running.stdout));
  child.stderr!.on('data', capture(running.stderr));
  // Echo agent logs when asked: the only way to see inside a task while debugging a test.
  if (process.env.FAKE_NOMAD_ECHO) child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${ctx.allocId.slice(0, 8)}] ${d}`));
  return running;
}

/** Kills the task's whole process group (`detached` made it a group leader). */
export function killTask(task: RunningTask, signal: NodeJS.Signals): void {
  if (task.child.exitCode !== null || task.child.signalCode !== null || task.child.pid === undefined) return;
  try {
    process.kill(-task.child.pid, signal);
  } catch {
    task.child.kill(signal);
  }
}
