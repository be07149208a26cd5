import Router from '@koa/router';
import type { Storage } from '@crucible/storage';
import { driverCheck, readiness, type Driver, type Scheduler } from '@crucible/scheduler';
import type { Redis } from 'ioredis';
import { ApiError } from '../errors.js';
import { languageStatus } from '../languages.js';
import { register } from '../metrics.js';
import { openApiDocument } from '../openapi.js';

export interface PlatformRoutesDeps {
  storage: Storage;
  redis: Redis;
  scheduler: Pick<Scheduler, 'queue' | 'agents'>;
  driver: Pick<Driver, 'name' | 'status'>;
}

/** Languages, queue, health, readiness, metrics and the OpenAPI document. */
export function platformRoutes({ storage, redis, scheduler, driver }: PlatformRoutesDeps): Router {
  const router = new Router();

  router.get('/v1/languages', async (ctx) => {
    ctx.body = await languageStatus(scheduler.agents);
  });

  router.get('/v1/queue', async (ctx) => {
    const [lanes, agents] = await Promise.all([scheduler.queue.depths(), scheduler.agents.live()]);
    ctx.body = {
      lanes,
      agents: agents.map((a) => ({
        id: a.id,
        node: a.node,
        lane: a.lanes.length === 1 ? a.lanes[0] : a.lanes.join(','),
        lanes: a.lanes,
        running: a.running,
        lastSeenAt: a.lastSeenAt,
      })),
      driver: driver.name,
    };
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    let details: Record<string, unknown> = {};
    const checks = await readiness({
      postgres: async () => (await storage.ping(), undefined),
      redis: async () => (await redis.ping(), undefined),
      driver: driverCheck(driver),
      runtime: async () => {
        const agents = await scheduler.agents.live();
        details = Object.fromEntries(agents.map((a) => [a.id, a.details]));
        const usable = (await languageStatus(scheduler.agents)).filter((l) => l.available).map((l) => l.id);
        // Under the nomad driver, no agent is the normal idle state: agents are dispatched on demand.
        if (agents.length === 0 && driver.name === 'nomad') return 'no agent running; the nomad driver dispatches them on demand';
        if (usable.length === 0) throw new Error(agents.length === 0 ? 'no executor agent is running' : 'no language is usable');
        return `usable: ${usable.join(', ')}`;
      },
    });
    const ready = Object.values(checks).every((c) => c.ok);
    // Exposed although a 5xx: which dependency is down is what an operator or orchestrator asks /readyz for.
    if (!ready) throw new ApiError(503, 'unavailable', 'not ready', { checks, agents: details }, true);
    ctx.body = { status: 'ready', checks, agents: details };
  });

  router.get('/metrics', async (ctx) => {
    ctx.set('Content-Type', register.contentType);
    ctx.body = await register.metrics();
  });

  router.get('/v1/openapi.json', (ctx) => {
    ctx.body = openApiDocument();
  });

  return router;
}
