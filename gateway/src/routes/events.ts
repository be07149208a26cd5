import Router from '@koa/router';
import type { EventBus } from '@crucible/scheduler';
import { streamOwnerEvents } from '../sse.js';

/** `GET /v1/events`: a live feed of the caller's evaluations' status changes (Server-Sent Events). */
export function eventRoutes(bus: EventBus): Router {
  const router = new Router();
  router.get('/v1/events', async (ctx) => {
    await streamOwnerEvents(ctx, ctx.state.owner, bus);
  });
  return router;
}
