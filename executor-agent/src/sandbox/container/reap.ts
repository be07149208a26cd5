import type Docker from 'dockerode';
import { LABELS, REAP_GRACE_MS } from './container-spec.js';
import { statusOf } from './docker-client.js';
import { DEFAULT_MAX_LIMITS } from '@crucible/storage/domain';

/**
 * Removes sandbox containers that no live run owns, and returns their ids.
 *
 * - With `agentId`: every container of that agent. Call it only when that agent runs nothing: at
 *   its own start (a previous incarnation with the same id may have crashed) or after it died.
 * - Without: every sandbox container past its `crucible.deadline` label, whichever agent made it.
 *   A live run kills and removes its container before then, so those are certainly orphans; this
 *   is safe to call while other agents share the engine.
 */
export async function reapOrphans(docker: Docker, agentId?: string, now: number = Date.now()): Promise<string[]> {
  const label = [`${LABELS.managed}=true`];
  if (agentId !== undefined) label.push(`${LABELS.agent}=${agentId}`);
  const found = await docker.listContainers({ all: true, filters: { label } });
  const orphans = found.filter((c) => agentId !== undefined || pastDeadline(c.Labels, c.Created, now));
  await Promise.all(
    orphans.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch((err: unknown) => {
          if (statusOf(err) !== 404 && statusOf(err) !== 409) throw err;
        }),
    ),
  );
  return orphans.map((c) => c.Id);
}

function pastDeadline(labels: Record<string, string>, createdSeconds: number, now: number): boolean {
  const deadline = Number(labels[LABELS.deadline]);
  // Without a readable label, assume the longest run the server allows.
  const limit = Number.isFinite(deadline) && deadline > 0 ? deadline : createdSeconds * 1000 + DEFAULT_MAX_LIMITS.timeoutMs + REAP_GRACE_MS;
  return now > limit;
}
