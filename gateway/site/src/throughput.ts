import { useRef } from 'preact/hooks';
import type { Evaluation } from './types';

const BUCKET_MS = 10_000;
const BUCKETS = 30;

/**
 * Evaluations finished per 10 s over the last 5 minutes, from the recent-evaluations polls: each
 * poll's finish times are remembered, so the chart covers more than the 20 rows a poll returns
 * (it undercounts only above 20 finishes per 2 s poll).
 */
export function useThroughput(items: Evaluation[] | undefined, now = Date.now()): { buckets: number[]; total: number } {
  const finished = useRef(new Map<string, number>());
  const seen = finished.current;
  for (const e of items ?? []) if (e.finishedAt) seen.set(e.id, Date.parse(e.finishedAt));
  const start = now - BUCKET_MS * BUCKETS;
  const buckets = new Array<number>(BUCKETS).fill(0);
  for (const [id, at] of seen) {
    if (at < start) seen.delete(id);
    else buckets[Math.min(BUCKETS - 1, Math.floor((at - start) / BUCKET_MS))]! += 1;
  }
  return { buckets, total: buckets.reduce((a, b) => a + b, 0) };
}
