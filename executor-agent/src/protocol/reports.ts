import { decodeOutput, type CompileResult, type RunResult, type Status } from '@crucible/storage/domain';
import type { OutputStream } from '../sandbox/sandbox.js';

/**
 * What an agent tells the scheduler about a task, in order, through the reports stream.
 * The scheduler persists each one and only then publishes it to watchers.
 */
export type AgentReport =
  | {
      type: 'status';
      evaluationId: string;
      agentId: string;
      status: Extract<Status, 'provisioning' | 'running'>;
      /** With `running`: how long the agent took from picking the task to the program running. */
      sandboxStartMs?: number;
      /**
       * Which delivery of the task this is (1 = first). A higher attempt than storage has counted
       * means the previous one was lost (its agent died): the scheduler records the retry first.
       */
      attempt?: number;
    }
  /**
   * A chunk of output: `base64` holds its exact bytes (what agents send: output is data, whatever
   * its bytes). `data`, text, is what agents sent before; read through {@link outputBytes}.
   */
  | { type: 'output'; evaluationId: string; agentId: string; stream: OutputStream; base64?: string; data?: string }
  | { type: 'result'; evaluationId: string; agentId: string; result: RunResult }
  /** A platform fault: `retrying` says whether the queue will run the task again. */
  | { type: 'fault'; evaluationId: string; agentId: string; error: string; retrying: boolean };

/** The exact bytes of an output report's chunk. */
export function outputBytes(report: Extract<AgentReport, { type: 'output' }>): Buffer {
  return report.base64 !== undefined ? Buffer.from(report.base64, 'base64') : Buffer.from(report.data ?? '', 'utf8');
}

/**
 * Streams carry flat string fields; a report travels as one JSON field. Output that has its exact
 * bytes (base64) travels as those only: its text is derived from them again on decoding, so a
 * megabyte of output is not sent twice. JSON escapes every byte the text could hold (NUL, lone
 * surrogates included), so any report survives the trip.
 */
export function encodeReport(report: AgentReport): [string, string] {
  if (report.type !== 'result') return ['r', JSON.stringify(report)];
  const r = report.result;
  const result: Record<string, unknown> = { ...r };
  if (r.stdoutBase64 !== undefined) delete result.stdout;
  if (r.stderrBase64 !== undefined) delete result.stderr;
  if (r.compile) result.compile = compactCompile(r.compile);
  return ['r', JSON.stringify({ ...report, result })];
}

export function decodeReport(fields: string[]): AgentReport | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'r') {
      try {
        const report = JSON.parse(fields[i + 1]!) as AgentReport;
        if (report.type === 'result') restoreText(report.result);
        return report;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function compactCompile(c: CompileResult): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  if (c.stdoutBase64 !== undefined) delete out.stdout;
  if (c.stderrBase64 !== undefined) delete out.stderr;
  return out;
}

/** Puts back the text fields {@link encodeReport} left out. */
function restoreText(r: RunResult | CompileResult): void {
  if (typeof r.stdoutBase64 === 'string' && typeof r.stdout !== 'string') r.stdout = decodeOutput(Buffer.from(r.stdoutBase64, 'base64'));
  if (typeof r.stderrBase64 === 'string' && typeof r.stderr !== 'string') r.stderr = decodeOutput(Buffer.from(r.stderrBase64, 'base64'));
  if ('compile' in r && r.compile) restoreText(r.compile);
}
