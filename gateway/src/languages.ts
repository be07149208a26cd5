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
