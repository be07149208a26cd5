import type { Knex } from 'knex';
import { StorageInputError } from '../errors.js';
import type { AuditEntry, AuditOutcome } from './types.js';

interface Row {
  id: string | number;
  at: Date | string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  ip: string | null;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

const toEntry = (r: Row): AuditEntry => ({
  id: String(r.id),
  at: new Date(r.at).toISOString(),
  actor: r.actor,
  action: r.action,
  target: r.target,
  outcome: r.outcome,
  ip: r.ip,
  requestId: r.request_id,
  details: r.details,
});

/** The append-only security audit log, read newest first with an id cursor. */
export class AuditRepository {
  constructor(private readonly knex: Knex) {}

  async append(entry: NewAuditEntry): Promise<void> {
    await this.knex('audit_log').insert({
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      outcome: entry.outcome,
      ip: entry.ip,
      request_id: entry.requestId,
      details: entry.details ? JSON.stringify(entry.details) : null,
    });
  }

  /** Newest first; `cursor` is the `nextCursor` of the previous page (an entry id). */
  async list(query: { limit: number; cursor?: string; action?: string }): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    if (query.cursor !== undefined && !/^[1-9][0-9]{0,17}$/.test(query.cursor)) throw new StorageInputError('cursor is malformed', 'bad_cursor');
    let q = this.knex('audit_log').orderBy('id', 'desc').limit(query.limit + 1);
    if (query.cursor !== undefined) q = q.where('id', '<', query.cursor);
    if (query.action !== undefined) q = q.where('action', query.action);
    const rows = (await q) as Row[];
    const items = rows.slice(0, query.limit).map(toEntry);
    return { items, nextCursor: rows.length > query.limit ? items[items.length - 1]!.id : null };
  }
}
