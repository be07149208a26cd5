import type { Redis } from 'ioredis';
import type { DriverStatus } from './nomad-driver.js';

/**
 * The nomad driver's view of Nomad, shared through Redis: a gateway running with an external
 * scheduler (CRUCIBLE_SCHEDULER=external) has no driver of its own, yet its /readyz must say when
 * Nomad is unreachable. The scheduler writes after every tick; the entry expires, so a scheduler
 * that stopped writing reads as not ready too.
 */
export const DRIVER_STATUS_TTL_SECONDS = 60;

export function driverStatusKey(prefix: string): string {
  return `${prefix}:driver-status`;
}

export async function publishDriverStatus(redis: Redis, prefix: string, status: DriverStatus): Promise<void> {
  await redis.set(driverStatusKey(prefix), JSON.stringify({ ...status, at: new Date().toISOString() }), 'EX', DRIVER_STATUS_TTL_SECONDS);
}

export async function readDriverStatus(redis: Redis, prefix: string): Promise<DriverStatus> {
  const raw = await redis.get(driverStatusKey(prefix));
  if (!raw) return { ok: false, detail: `no scheduler has reported on Nomad in the last ${DRIVER_STATUS_TTL_SECONDS} s (is the scheduler running?)` };
  const s = JSON.parse(raw) as DriverStatus & { at: string };
  return { ok: s.ok, detail: `${s.detail} (scheduler, ${s.at})` };
}
