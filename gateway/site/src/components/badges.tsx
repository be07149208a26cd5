import type { Outcome, Status } from '../types';

// Colour is never the only signal: every badge is also its word (WCAG 1.4.1).

export function StatusBadge({ status }: { status: Status }) {
  return <span class={`badge status-${status}`}>{status}</span>;
}

export function OutcomeBadge({ outcome }: { outcome: Outcome | null }) {
  if (!outcome) return <span class="muted">—</span>;
  return <span class={`badge outcome-${outcome}`}>{outcome.replace('_', ' ')}</span>;
}
