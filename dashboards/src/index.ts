import type { Dashboard } from './panels.js';
import { overview } from './overview.js';
import { queueAndAgents } from './queue-and-agents.js';
import { sandbox } from './sandbox.js';
import { api } from './api.js';

/** Every dashboard, by the name of its generated file (`generated/<name>.json`). */
export const dashboards: Record<string, () => Dashboard> = {
  overview,
  'queue-and-agents': queueAndAgents,
  sandbox,
  api,
};

/**
 * The JSON committed for a dashboard. Panel ids are numbered here so links to a panel
 * (`viewPanel=N`) stay stable when panels are added elsewhere in the file.
 */
export function render(build: () => Dashboard): string {
  const d = build();
  d.panels?.forEach((p, i) => {
    p.id = i + 1;
  });
  return `${JSON.stringify(d, null, 2)}\n`;
}
