import type { Redis } from 'ioredis';
import { redisKeys } from '@crucible/executor-agent/protocol';
import { PRIORITIES } from '@crucible/storage/domain';
import { gatewayKeys } from '../auth/redis-keys.js';

/**
 * Redis 7 ACL users for service-to-service least privilege. Agents run next to untrusted code, so
 * theirs is the narrow one: only the keys and channels of the agent protocol (bee-queue lanes,
 * attempt counters, the reports stream, heartbeats, cancel channel and markers, the wake channel), never the gateway's auth cache or rate
 * limits, another platform's prefix, or server administration. The gateway/scheduler user gets its
 * whole prefix. Neither may run dangerous commands (FLUSHALL, KEYS, CONFIG, DEBUG, MONITOR, ...).
 * Patterns come from the same key functions the code uses, so they follow any key change.
 */

/**
 * Command rules both users share: data commands on their keys, Lua through EVAL/EVALSHA only (not
 * FUNCTION: its FLUSH/DELETE are in @write but touch no key, so key patterns would not stop them),
 * nothing dangerous or administrative.
 */
const COMMANDS = [
  '-@all', '+@read', '+@write', '+@pubsub', '+@transaction', '+@connection',
  '-@scripting', '+eval', '+evalsha', '+script|load', '+script|exists',
  '-@dangerous', '-@admin',
  // TIME: the rate limiter's clock (called inside its script). INFO: ioredis's ready check.
  '+time', '+info',
];

/** Key patterns (`~`) and channel patterns (`&`) an agent needs, from the protocol's key table. */
export function agentPatterns(prefix: string): { keys: string[]; channels: string[] } {
  const k = redisKeys(prefix);
  // bee-queue names every key of a queue `<queuePrefix>:<queue name>:<suffix>`.
  const lanes = PRIORITIES.map((lane) => `${k.queuePrefix}:${k.laneQueue(lane)}:*`);
  return {
    keys: [...lanes, k.attempts('*'), k.reports, k.agents, k.cancelled('*')],
    channels: [k.cancelChannel, k.wake, ...lanes],
  };
}

export function gatewayPatterns(prefix: string): { keys: string[]; channels: string[] } {
  return { keys: [`${prefix}:*`], channels: [`${prefix}:*`] };
}

/** The full ACL SETUSER rule list for a user with `password` and the given patterns. */
export function aclRules(password: string, patterns: { keys: string[]; channels: string[] }): string[] {
  return ['reset', 'on', `>${password}`, ...patterns.keys.map((p) => `~${p}`), 'resetchannels', ...patterns.channels.map((c) => `&${c}`), ...COMMANDS];
}

export interface AclUsers {
  prefix: string;
  agent: { name: string; password: string };
  gateway: { name: string; password: string };
}

/** Creates (or resets) both users on the server `admin` is connected to (as a user allowed ACL SETUSER). */
export async function applyRedisAcl(admin: Redis, users: AclUsers): Promise<void> {
  await admin.call('ACL', 'SETUSER', users.agent.name, ...aclRules(users.agent.password, agentPatterns(users.prefix)));
  await admin.call('ACL', 'SETUSER', users.gateway.name, ...aclRules(users.gateway.password, gatewayPatterns(users.prefix)));
}

/** A Redis URL for `user`, based on the admin URL (same host, port and database). */
export function urlFor(adminUrl: string, user: { name: string; password: string }): string {
  const url = new URL(adminUrl);
  url.username = encodeURIComponent(user.name);
  url.password = encodeURIComponent(user.password);
  return url.toString();
}

/** Gateway-only keys, for tests and docs: what an agent must not reach. */
export const gatewayOnly = (prefix: string) => gatewayKeys(prefix);
