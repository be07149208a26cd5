import { performance } from 'node:perf_hooks';

/** Order statistics of one series of timings, in milliseconds. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * Nearest-rank percentile of an ascending array: always a value that was actually observed, so
 * with 30 samples p95 is the 29th, not an interpolation between two runs.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    mean: sorted.reduce((s, x) => s + x, 0) / sorted.length,
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
  };
}

/** Wall-clock milliseconds `fn` takes, with what it returned. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/**
 * Sequential latency of several tasks measured side by side: `warmup` unmeasured rounds, then
 * `samples` rounds that each run every task once. Interleaving makes drift in the host's load
 * (other work on a shared machine) hit every series alike, so the ratios between them hold; the
 * order rotates each round so no task always runs right after the same neighbour.
 */
export async function interleavedLatency(warmup: number, samples: number, tasks: readonly (() => Promise<unknown>)[]): Promise<number[][]> {
  const out = tasks.map((): number[] => []);
  for (let round = 0; round < warmup + samples; round++) {
    for (let k = 0; k < tasks.length; k++) {
      const i = (round + k) % tasks.length;
      const { ms } = await timed(tasks[i]!);
      if (round >= warmup) out[i]!.push(ms);
    }
  }
  return out;
}

/**
 * Runs `task(0..count-1)` with at most `parallelism` in flight and returns the total wall time.
 * Each worker starts the next index as soon as its previous one ends, so the platform and the
 * baseline see exactly the same offered load.
 */
export async function throughput(count: number, parallelism: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  const { ms } = await timed(() => Promise.all(Array.from({ length: Math.min(parallelism, count) }, worker)));
  return ms;
}
