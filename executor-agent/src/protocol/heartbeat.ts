import type { Priority } from '@crucible/storage/domain';
import type { LanguageInfo } from '../sandbox/sandbox.js';

/** What each live agent publishes about itself every HEARTBEAT_INTERVAL_MS. */
export interface AgentHeartbeat {
  id: string;
  node: string;
  lanes: Priority[];
  running: number;
  lastSeenAt: string;
  /** Languages with availability as this agent's sandboxes found them at start. */
  languages: LanguageInfo[];
  /** Facts about the sandboxes worth showing in /readyz (engine mode, runtime). */
  details: Record<string, unknown>;
}
