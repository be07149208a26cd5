import Koa from 'koa';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Storage } from '@crucible/storage';
import type { Limits } from '@crucible/storage/domain';
import type { Driver, Scheduler } from '@crucible/scheduler';
import { jsonBody } from './body.js';
import { errorHandler } from './errors.js';
import { EvaluationService } from './evaluation-service.js';
import { cachedFor, languageStatus } from './languages.js';
import { httpMetrics, registerMetrics } from './metrics.js';
import { cleanUrl, cors, requestId, requestLog, securityHeaders } from './request-context.js';
import { Accounts } from './auth/accounts.js';
import { Auditor } from './auth/audit.js';
import { CacheSeal } from './auth/cache-seal.js';
import { Authenticator } from './auth/authenticator.js';
import { authenticate, concurrencyCap, rateLimit } from './auth/middleware.js';
import { RateLimiter, type RateLimitPolicies } from './auth/rate-limit.js';
import { gatewayKeys } from './auth/redis-keys.js';
import type { TokenIssuer } from './auth/tokens.js';
import { auditRoutes } from './routes/audit.js';
import { authRoutes } from './routes/auth.js';
import { keyRoutes } from './routes/keys.js';
import { userRoutes } from './routes/users.js';
import { dlqRoutes } from './routes/dlq.js';
import { eventRoutes } from './routes/events.js';
import { evaluationRoutes } from './routes/evaluations.js';
import { platformRoutes } from './routes/platform.js';
import { staticSite } from './static.js';

export interface AppDeps {
  storage: Storage;
  redis: Redis;
  scheduler: Pick<Scheduler, 'queue' | 'agents' | 'bus'>;
  /** The embedded scheduler's driver (its status joins /readyz); only its name when the scheduler is external. */
  driver?: Pick<Driver, 'name' | 'status'>;
  log: Logger;
  bodyLimitBytes: number;
  maxWaitSeconds: number;
  maxLimits: Limits;
  defaultLimits: Limits;
  /** Authentication, rate limits and CORS (gateway/SECURITY.md). */
  security: {
    redisPrefix: string;
    tokens: TokenIssuer;
    rateLimits: RateLimitPolicies;
    maxActiveEvaluations: number;
    corsOrigins: readonly string[];
  };
  /** Backpressure: waiting tasks above which submissions answer 503 `queue_full`. */
  maxQueueDepth?: number;
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
  const platform = platformRoutes({ storage, redis: deps.redis, scheduler, driver: deps.driver ?? { name: 'local' } });

  const sec = deps.security;
  const keys = gatewayKeys(sec.redisPrefix);
  const accounts = new Accounts({ users: storage.users, refreshTokens: storage.refreshTokens, redis: deps.redis, keys, tokens: sec.tokens, accessTtlSeconds: sec.tokens.accessTtlSeconds });
  // The seal's key lives in this platform's database, so another database's gateways (sharing
  // the Redis) cannot make entries this one believes.
  const seal = new CacheSeal(() => storage.secrets.authCacheKey());
  const authenticator = new Authenticator({ users: storage.users, redis: deps.redis, keys, tokens: sec.tokens, seal, log: deps.log });
  const limiter = new RateLimiter(deps.redis, sec.rateLimits, keys.rateLimit);
  const auditor = new Auditor(storage.audit, deps.log);

  app.use(httpMetrics());
  app.use(requestId());
  app.use(requestLog(deps.log));
  app.use(securityHeaders());
  app.use(errorHandler(deps.log));
  app.use(cors(sec.corsOrigins));
  app.use(staticSite(deps.siteDir));
  app.use(cleanUrl());
  // Authenticated before the body is read: an anonymous client cannot make us read or parse anything.
  app.use(authenticate({ authenticator, auditor, limiter, log: deps.log }));
  app.use(rateLimit(limiter, deps.log));
  app.use(jsonBody(deps.bodyLimitBytes));
  app.use(concurrencyCap(storage.evaluations, sec.maxActiveEvaluations));
  for (const router of [authRoutes(accounts, storage.users, limiter), userRoutes(accounts, storage.users), keyRoutes(accounts, storage.users), auditRoutes(storage.audit)]) {
    app.use(router.routes()).use(router.allowedMethods());
  }
  app.use(evaluations.routes()).use(evaluations.allowedMethods());
  app.use(platform.routes()).use(platform.allowedMethods());
  const dlq = dlqRoutes({ service, deadLetters: storage.deadLetters });
  app.use(dlq.routes()).use(dlq.allowedMethods());
  const events = eventRoutes(scheduler.bus);
  app.use(events.routes()).use(events.allowedMethods());
  return app;
}
