import Koa from 'koa';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Storage } from '@crucible/storage';
import type { Limits } from '@crucible/storage/domain';
import type { Scheduler } from '@crucible/scheduler';
import { jsonBody } from './body.js';
import { errorHandler } from './errors.js';
import { EvaluationService } from './evaluation-service.js';
import { cachedFor, languageStatus } from './languages.js';
import { httpMetrics, registerMetrics } from './metrics.js';
import { fixedOwner, requestId, securityHeaders } from './request-context.js';
import { dlqRoutes } from './routes/dlq.js';
import { eventRoutes } from './routes/events.js';
import { evaluationRoutes } from './routes/evaluations.js';
import { platformRoutes } from './routes/platform.js';
import { staticSite } from './static.js';

export interface AppDeps {
  storage: Storage;
  redis: Redis;
  scheduler: Pick<Scheduler, 'queue' | 'agents' | 'bus'>;
  log: Logger;
  bodyLimitBytes: number;
  maxWaitSeconds: number;
  maxLimits: Limits;
  defaultLimits: Limits;
  /** Backpressure: waiting tasks above which submissions answer 503 `queue_full`. */
  maxQueueDepth?: number;
  owner: string;
  /** The built status site; the default is where the build puts it. */
  siteDir?: string;
  /** Reported as crucible_build_info. */
  version: string;
}

/** Builds the Koa application; it opens nothing itself, so tests can run it on any port. */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  const { storage, scheduler } = deps;
  const service = new EvaluationService({
    evaluations: storage.evaluations,
    deadLetters: storage.deadLetters,
    maxQueueDepth: deps.maxQueueDepth ?? 10_000,
    queue: scheduler.queue,
    bus: scheduler.bus,
    languages: cachedFor(1000, () => languageStatus(scheduler.agents)),
    maxLimits: deps.maxLimits,
    defaultLimits: deps.defaultLimits,
    log: deps.log,
  });
  registerMetrics({
    version: deps.version,
    queue: () => scheduler.queue.depths(),
    agents: () => scheduler.agents.live(),
    languages: () => languageStatus(scheduler.agents),
    deadLetters: () => storage.deadLetters.count(),
  });

  const evaluations = evaluationRoutes({ service, evaluations: storage.evaluations, bus: scheduler.bus, maxWaitSeconds: deps.maxWaitSeconds });
  const platform = platformRoutes({ storage, redis: deps.redis, scheduler, driver: 'local' });

  app.use(httpMetrics());
  app.use(requestId());
  app.use(securityHeaders());
  app.use(errorHandler(deps.log));
  app.use(staticSite(deps.siteDir));
  app.use(jsonBody(deps.bodyLimitBytes));
  app.use(fixedOwner(deps.owner));
  app.use(evaluations.routes()).use(evaluations.allowedMethods());
  app.use(platform.routes()).use(platform.allowedMethods());
  const dlq = dlqRoutes({ service, deadLetters: storage.deadLetters });
  app.use(dlq.routes()).use(dlq.allowedMethods());
  const events = eventRoutes(scheduler.bus);
  app.use(events.routes()).use(events.allowedMethods());
  return app;
}
