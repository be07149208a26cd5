import type { Logger } from 'pino';
import type { AllocationListStub } from './api-types.js';
import type { NomadClient } from './client.js';
import { NomadApiError } from './errors.js';

export interface WatchOptions {
  /** Only allocations of jobs whose ID starts with this (the dispatched agents). */
  jobPrefix: string;
  signal: AbortSignal;
  log: Logger;
  /** Called for every change of a matching allocation. */
  onChange(alloc: AllocationListStub): void;
  /** Blocking-query wait; short in tests. */
  waitMs?: number;
}

/** After this many blocking rounds, try the event stream again. */
const BLOCKING_ROUNDS_BEFORE_RETRY = 20;
const RETRY_MAX_MS = 30_000;

/**
 * Follows allocation changes: the event stream (`/v1/event/stream?topic=Allocation`) when Nomad
 * offers it, else blocking queries on `/v1/allocations` (older servers, ACL tokens without event
 * access, proxies that cut long streams). Runs until `signal` aborts; errors only back off.
 */
export async function watchAllocations(nomad: NomadClient, opts: WatchOptions): Promise<void> {
  let index = 0;
  let delay = 500;
  let streamUsable = true;
  const known = new Map<string, string>();
  const seen = (alloc: AllocationListStub) => {
    if (!alloc.ID || !alloc.JobID?.startsWith(opts.jobPrefix)) return;
    const key = `${alloc.ClientStatus}/${alloc.DesiredStatus}`;
    if (known.get(alloc.ID) === key) return;
    known.set(alloc.ID, key);
    opts.onChange(alloc);
  };

  while (!opts.signal.aborted) {
    try {
      if (streamUsable) {
        for await (const frame of nomad.events({ topics: ['Allocation:*'], index, signal: opts.signal })) {
          index = Math.max(index, frame.Index);
          for (const event of frame.Events) {
            const alloc = event.Payload.Allocation as AllocationListStub | undefined;
            if (alloc) seen(alloc);
          }
          delay = 500;
        }
        // The server ended the stream (restart, leader change): reconnect from the last index.
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      for (let round = 0; round < BLOCKING_ROUNDS_BEFORE_RETRY && !opts.signal.aborted; round++) {
        const res = await nomad.allocations({}, { index, waitMs: opts.waitMs ?? 60_000, signal: opts.signal });
        // An index that went backwards means a new cluster or a snapshot restore: start over.
        index = res.index < index ? 0 : res.index;
        res.value.forEach(seen);
        delay = 500;
      }
      streamUsable = true;
    } catch (err) {
      if (opts.signal.aborted) return;
      if (streamUsable) {
        streamUsable = false;
        const permanent = err instanceof NomadApiError && (err.status === 403 || err.status === 404);
        opts.log.warn({ err: (err as Error).message, permanent }, 'allocation event stream unavailable; using blocking queries');
        continue;
      }
      opts.log.warn({ err: (err as Error).message, retryInMs: delay }, 'watching allocations failed');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }
}
