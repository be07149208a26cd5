import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { AuditOutcome, AuditRepository } from '@crucible/storage';

/** Actions the audit log records (GET /v1/audit); dotted, stable, low in number. */
export type AuditAction =
  | 'auth.failure'
  | 'auth.token'
  | 'auth.refresh'
  | 'auth.refresh_reuse'
  | 'user.create'
  | 'key.create'
  | 'key.revoke'
  | 'role.denied'
  | 'evaluation.cancel'
  | 'dlq.retry';

export interface AuditEvent {
  action: AuditAction;
  target?: string | null;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
  /** Defaults to the authenticated user of the request. */
  actor?: string | null;
}

/** Writes security events with who, from where and which request; a failed write is logged, never fatal. */
export class Auditor {
  constructor(private readonly repo: AuditRepository, private readonly log: Logger) {}

  async record(ctx: Context, event: AuditEvent): Promise<void> {
    const entry = {
      actor: event.actor !== undefined ? event.actor : (ctx.state.principal?.userId ?? null),
      action: event.action,
      target: event.target ?? null,
      outcome: event.outcome,
      ip: ctx.ip || null,
      requestId: ctx.state.requestId ?? null,
      details: event.details ?? null,
    };
    await this.repo.append(entry).catch((err: unknown) => this.log.error({ err, action: event.action }, 'audit write failed'));
  }
}

/**
 * Records a security event for the current request: `await audit(ctx, {action, target, outcome})`.
 * The auth middleware puts the Auditor on the context, so routes need no extra dependency.
 */
export function audit(ctx: Context, event: AuditEvent): Promise<void> {
  const auditor = ctx.state.auditor as Auditor | undefined;
  return auditor ? auditor.record(ctx, event) : Promise.resolve();
}
