import { clockTime } from '../explain';
import { isTerminal, type Evaluation, type Status } from '../types';

export interface SeenStatus {
  status: Status;
  /** When the page saw it live; replayed statuses have no time of their own. */
  at?: string;
}

// Only a container is provisioned (an image and a container made); a Wasm run starts at once.
const PATHS: Record<Evaluation['runtime'], Status[]> = {
  container: ['queued', 'provisioning', 'running'],
  wasm: ['queued', 'running'],
};

/** The life of an evaluation as steps: reached, current, or still ahead. */
export function StatusTimeline({ evaluation, seen }: { evaluation: Evaluation; seen: SeenStatus[] }) {
  const terminal = isTerminal(evaluation.status) ? evaluation.status : undefined;
  const reached = new Map(seen.map((s) => [s.status, s.at]));
  reached.set(evaluation.status, reached.get(evaluation.status));
  // Times the API itself records beat the page's own observations.
  const times: Partial<Record<Status, string | undefined>> = {
    queued: evaluation.createdAt,
    running: evaluation.startedAt ?? reached.get('running'),
    provisioning: reached.get('provisioning'),
  };
  if (terminal) times[terminal] = evaluation.finishedAt ?? reached.get(terminal);
  const current = evaluation.status;
  const order = [...(PATHS[evaluation.runtime] ?? PATHS.container), terminal ?? 'finished'];
  const index = order.indexOf(current);
  return (
    <ol class="timeline" aria-label="Status timeline">
      {order.map((step, i) => {
        const status = step as Status;
        // Live, the path is linear. Once finished, only what was reached counts: a run cancelled
        // in the queue skipped the steps after it.
        const passed = terminal ? reached.has(status) || Boolean(times[status]) : i < index;
        const state = step === current ? (terminal ? 'done' : 'current') : passed ? 'done' : terminal ? 'skipped' : 'ahead';
        return (
          <li key={step} class={`step ${state}`} aria-current={state === 'current' ? 'step' : undefined}>
            <span class="step-name">{step}</span>
            <span class="step-time">{state === 'skipped' ? 'skipped' : state === 'ahead' ? '' : clockTime(times[status])}</span>
          </li>
        );
      })}
    </ol>
  );
}
