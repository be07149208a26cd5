import { Counter, Gauge, Histogram, collectDefaultMetrics, register } from 'prom-client';
import type { Context, Next } from 'koa';
import { KNOWN_LANGUAGES } from '@crucible/executor-agent/protocol';
import { initialiseAtZero, labelSets } from '@crucible/scheduler';
import { AUTH_FAILURE_REASONS } from './auth/principal.js';
import { RATE_LIMIT_REASONS } from './auth/rate-limit.js';

/** Gateway metrics on prom-client's default registry; the scheduler adds its own to the same one. */
export const evaluationsAccepted = new Counter({
  name: 'crucible_evaluations_accepted_total',
  help: 'Evaluations accepted through the API, by language and runtime.',
  labelNames: ['language', 'runtime'] as const,
});
initialiseAtZero(evaluationsAccepted, KNOWN_LANGUAGES.map(({ id, runtime }) => ({ language: id, runtime })));

/** Refused credentials by reason (a small fixed set: auth/principal.ts), never by key or user. */
export const authFailures = new Counter({
  name: 'crucible_auth_failures_total',
  help: 'Authentication failures by reason.',
  labelNames: ['reason'] as const,
});
initialiseAtZero(authFailures, labelSets({ reason: AUTH_FAILURE_REASONS }));

/** Requests answered 429, by the budget that ran out (submit, read, auth, concurrency). */
export const rateLimited = new Counter({
  name: 'crucible_rate_limited_requests_total',
  help: 'Requests refused with 429 rate_limited, by budget.',
  labelNames: ['budget'] as const,
});
initialiseAtZero(rateLimited, labelSets({ budget: RATE_LIMIT_REASONS }));

/** Identity-bearing values found in Redis that this platform did not seal (auth/cache-seal.ts): forged or foreign. */
export const authCacheRejected = new Counter({
  name: 'crucible_auth_cache_rejected_total',
  help: 'Auth cache entries in Redis ignored because their seal did not verify, by cache.',
  labelNames: ['cache'] as const,
});
initialiseAtZero(authCacheRejected, labelSets({ cache: ['api_key'] }));

export const httpDuration = new Histogram({
  name: 'crucible_http_request_duration_seconds',
  help: 'HTTP request duration by route, method and status.',
  labelNames: ['route', 'method', 'status'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
});

export interface MetricSources {
  version: string;
  queue: () => Promise<{ name: string; depth: number; running: number }[]>;
  agents: () => Promise<{ lanes: string[]; running: number }[]>;
  languages: () => Promise<{ id: string; runtime: string; available: boolean }[]>;
  deadLetters: () => Promise<number>;
}

let registered = false;

/**
 * Registers process metrics and the gauges read at scrape time, once per process. Agents are
 * observed through what they report over Redis (heartbeats, results), not scraped: a short-lived
 * agent allocation needs no scrape target (dashboards/README.md).
 */
export function registerMetrics(src: MetricSources): void {
  if (registered) return;
  registered = true;
  collectDefaultMetrics();
  new Gauge({
    name: 'crucible_build_info',
    help: 'Always 1; labels say what is running.',
    labelNames: ['version', 'node_version'] as const,
  }).set({ version: src.version, node_version: process.version }, 1);
  new Gauge({
    name: 'crucible_queue_depth',
    help: 'Tasks waiting per lane.',
    labelNames: ['lane'] as const,
    async collect() {
      for (const lane of await src.queue()) this.set({ lane: lane.name }, lane.depth);
    },
  });
  new Gauge({
    name: 'crucible_queue_running',
    help: 'Tasks being run per lane.',
    labelNames: ['lane'] as const,
    async collect() {
      for (const lane of await src.queue()) this.set({ lane: lane.name }, lane.running);
    },
  });
  new Gauge({
    name: 'crucible_agents',
    help: 'Live agents per lane they serve and state (busy: running a task).',
    labelNames: ['lane', 'state'] as const,
    async collect() {
      this.reset();
      for (const lane of ['high', 'normal', 'low']) for (const state of ['idle', 'busy']) this.set({ lane, state }, 0);
      for (const agent of await src.agents()) {
        for (const lane of agent.lanes) this.inc({ lane, state: agent.running > 0 ? 'busy' : 'idle' });
      }
    },
  });
  new Gauge({
    name: 'crucible_language_available',
    help: '1 when at least one live agent can run the language (its sandbox checks passed).',
    labelNames: ['language', 'runtime'] as const,
    async collect() {
      for (const l of await src.languages()) this.set({ language: l.id, runtime: l.runtime }, l.available ? 1 : 0);
    },
  });
  new Gauge({
    name: 'crucible_dead_letter_size',
    help: 'Evaluations that failed on platform faults after every retry (status failed).',
    async collect() {
      this.set(await src.deadLetters());
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
