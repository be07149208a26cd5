import { Counter, Gauge, Histogram, collectDefaultMetrics, register } from 'prom-client';
import type { Context, Next } from 'koa';

/** Gateway metrics on prom-client's default registry; the scheduler adds its own to the same one. */
export const evaluationsAccepted = new Counter({
  name: 'crucible_evaluations_accepted_total',
  help: 'Evaluations accepted through the API, by language and runtime.',
  labelNames: ['language', 'runtime'] as const,
});

export const httpDuration = new Histogram({
  name: 'crucible_http_request_duration_seconds',
  help: 'HTTP request duration by route, method and status.',
  labelNames: ['route', 'method', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
});

let registered = false;

/** Registers process metrics and the queue-depth gauge once per process. */
export function registerMetrics(queueDepth: () => Promise<{ name: string; depth: number }[]>): void {
  if (registered) return;
  registered = true;
  collectDefaultMetrics();
  new Gauge({
    name: 'crucible_queue_depth',
    help: 'Tasks waiting per lane.',
    labelNames: ['lane'] as const,
    async collect() {
      for (const lane of await queueDepth()) this.set({ lane: lane.name }, lane.depth);
    },
  });
}

export function httpMetrics() {
  return async (ctx: Context, next: Next) => {
    const end = httpDuration.startTimer();
    try {
      await next();
    } finally {
      // The matched route pattern, never the raw path: ids would explode the label's cardinality.
      const route = (ctx as Context & { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      end({ route: String(route), method: ctx.method, status: String(ctx.status) });
    }
  };
}

export { register };
