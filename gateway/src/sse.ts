import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { EvaluationRepository } from '@crucible/storage';
import { isTerminal, type EvaluationEvent, type Status } from '@crucible/storage/domain';
import type { EventBus } from '@crucible/scheduler';
import { presentEvaluation, presentEventData, type PresentOptions } from './presenter.js';

const KEEPALIVE_MS = 15_000;
/** Storage is re-read this often while following, so a lost pub/sub message only delays. */
const CATCH_UP_MS = 2_000;

/**
 * Streams an evaluation's events as Server-Sent Events: replays what storage holds after
 * `Last-Event-ID` (the event seq), then follows live events, then sends `done` and closes.
 */
export async function streamEvents(
  ctx: Context,
  evaluationId: string,
  evaluations: EvaluationRepository,
  bus: EventBus,
  options: PresentOptions = {},
): Promise<void> {
  const out = new PassThrough();
  let last = Number.parseInt(ctx.get('last-event-id'), 10) || 0;
  let closed = false;
  let pending: EvaluationEvent[] | undefined = [];
  let catchingUp = Promise.resolve();

  // One JSON value on one data line: JSON escapes CR, LF and all other controls, so whatever bytes
  // a program wrote, each event stays one well-formed event (see presentEventData).
  const write = (event: string, data: unknown, id?: number) => {
    if (closed) return;
    out.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    clearInterval(poll);
    void follow.then((f) => f[Symbol.asyncDispose]());
    out.end();
  };
  const finish = async () => {
    const evaluation = await evaluations.get(evaluationId);
    if (evaluation) write('done', presentEvaluation(evaluation, options));
    close();
  };
  const emit = (event: EvaluationEvent) => {
    if (closed || event.seq <= last) return;
    last = event.seq;
    write(event.type, presentEventData(event, options), event.seq);
    if (event.type === 'status' && isTerminal(event.data.status as Status)) void finish();
  };
  /** Reads storage past `last`: the replay, and the repair for any gap in the live feed. */
  const catchUp = () => {
    catchingUp = catchingUp.then(async () => {
      if (closed) return;
      for (const event of await evaluations.events(evaluationId, last)) emit(event);
    }).catch(() => close());
    return catchingUp;
  };

  ctx.req.on('close', close);
  ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  ctx.status = 200;
  ctx.body = out;

  // Subscribe before replaying, so nothing published between the two is missed.
  const onLive = (event: EvaluationEvent) => {
    if (pending) pending.push(event);
    else if (event.seq === last + 1) emit(event);
    else if (event.seq > last) void catchUp();
  };
  const follow = bus.follow(evaluationId, onLive);
  const keepalive = setInterval(() => !closed && out.write(': keepalive\n\n'), KEEPALIVE_MS);
  const poll = setInterval(() => void catchUp(), CATCH_UP_MS);
  await follow;
  await catchUp();
  const buffered = pending;
  pending = undefined;
  for (const event of buffered) onLive(event);
}

/**
 * Streams the status changes of every evaluation of one owner, live only (no replay: a client
 * reads the list first, then follows). Each event is `status` with `{id, status, outcome?}`.
 */
export async function streamOwnerEvents(ctx: Context, owner: string, bus: EventBus): Promise<void> {
  const out = new PassThrough();
  let closed = false;
  ctx.set({ 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  ctx.status = 200;
  ctx.body = out;
  const follow = bus.followOwner(owner, (event) => {
    if (closed || event.type !== 'status') return;
    const { status, outcome } = event.data as { status: Status; outcome?: string };
    out.write(`event: status\ndata: ${JSON.stringify({ id: event.evaluationId, status, ...(outcome ? { outcome } : {}) })}\n\n`);
  });
  const keepalive = setInterval(() => !closed && out.write(': keepalive\n\n'), KEEPALIVE_MS);
  ctx.req.on('close', () => {
    closed = true;
    clearInterval(keepalive);
    void follow.then((f) => f[Symbol.asyncDispose]());
    out.end();
  });
  await follow;
  // An opening comment lets a client know the subscription is live before the first event.
  out.write(': following\n\n');
}
