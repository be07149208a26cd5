import type { RunResult, Status } from '@crucible/storage/domain';
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
  | { type: 'output'; evaluationId: string; agentId: string; stream: OutputStream; data: string }
  | { type: 'result'; evaluationId: string; agentId: string; result: RunResult }
  /** A platform fault: `retrying` says whether the queue will run the task again. */
  | { type: 'fault'; evaluationId: string; agentId: string; error: string; retrying: boolean };

/** Streams carry flat string fields; a report travels as one JSON field. */
export function encodeReport(report: AgentReport): [string, string] {
  return ['r', JSON.stringify(report)];
}

export function decodeReport(fields: string[]): AgentReport | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'r') {
      try {
        return JSON.parse(fields[i + 1]!) as AgentReport;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
