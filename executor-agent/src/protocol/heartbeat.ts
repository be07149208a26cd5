import type { Priority } from '@crucible/storage/domain';
import type { LanguageInfo } from '../sandbox/sandbox.js';

/** What each live agent publishes about itself every HEARTBEAT_INTERVAL_MS. */
export interface AgentHeartbeat {
  id: string;
  node: string;
  lanes: Priority[];
  running: number;
  /** Tasks it runs at once (across its lanes). */
  slots?: number;
  /** Tasks it finished since it started (for the scaler's per-agent throughput). */
  completed?: number;
  /** Since when it has had no task; null while one runs (for retiring idle agents). */
  idleSince?: string | null;
  /** Its process id, so a driver (or a chaos test) can signal it. */
  pid?: number;
  lastSeenAt: string;
  /** Languages with availability as this agent's sandboxes found them at start. */
  languages: LanguageInfo[];
  /** Facts about the sandboxes worth showing in /readyz (engine mode, runtime). */
  details: Record<string, unknown>;
}
