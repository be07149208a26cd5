import type { Redis } from 'ioredis';
import { AGENT_STALE_MS, type AgentHeartbeat, type RedisKeys } from '@crucible/executor-agent/protocol';

/** Reads the agents' heartbeats; an agent silent for AGENT_STALE_MS is gone and is pruned. */
export class AgentRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async live(now = Date.now()): Promise<AgentHeartbeat[]> {
    const all = await this.redis.hgetall(this.keys.agents);
    const live: AgentHeartbeat[] = [];
    const stale: string[] = [];
    for (const [id, json] of Object.entries(all)) {
      let beat: AgentHeartbeat | undefined;
      try {
        beat = JSON.parse(json) as AgentHeartbeat;
      } catch {
        beat = undefined;
      }
      if (beat && now - Date.parse(beat.lastSeenAt) <= AGENT_STALE_MS) live.push(beat);
      else stale.push(id);
    }
    if (stale.length > 0) await this.redis.hdel(this.keys.agents, ...stale);
    return live.sort((a, b) => a.id.localeCompare(b.id));
  }
}
