import { KNOWN_LANGUAGES, type LanguageInfo } from '@crucible/executor-agent/protocol';
import type { AgentRegistry } from '@crucible/scheduler';

/**
 * The languages as clients see them: every known language, available when at least one live
 * agent can run it; otherwise with the reason agents gave (or that no agent is running).
 */
export async function languageStatus(agents: AgentRegistry): Promise<LanguageInfo[]> {
  const live = await agents.live();
  return KNOWN_LANGUAGES.map((known) => {
    const reports = live.flatMap((a) => a.languages.filter((l) => l.id === known.id));
    const usable = reports.find((l) => l.available);
    if (usable) return { ...usable, id: known.id, runtime: known.runtime, available: true, reason: undefined };
    const first = reports[0];
    return {
      id: known.id,
      name: first?.name ?? known.name,
      version: first?.version ?? 'unknown',
      runtime: known.runtime,
      available: false,
      reason: first?.reason ?? (live.length === 0 ? 'no executor agent is running' : `no agent offers ${known.id}`),
    };
  });
}

/**
 * `fn` with its result kept for `ms`: submissions check language availability, and a batch of a
 * thousand should not read every heartbeat a thousand times.
 */
export function cachedFor<T>(ms: number, fn: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  let at = 0;
  return () => {
    if (!value || Date.now() - at > ms) {
      at = Date.now();
      value = fn().catch((err) => {
        value = undefined;
        throw err;
      });
    }
    return value;
  };
}
