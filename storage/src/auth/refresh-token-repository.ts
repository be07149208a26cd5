import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { RefreshTokenRecord } from './types.js';

interface Row {
  id: string;
  family_id: string;
  user_id: string;
  key_id: string;
  hash: string;
  expires_at: Date | string;
  used_at: Date | string | null;
  revoked_at: Date | string | null;
}

const isoOrNull = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());
const toRecord = (r: Row): RefreshTokenRecord => ({
  id: r.id,
  familyId: r.family_id,
  userId: r.user_id,
  keyId: r.key_id,
  expiresAt: new Date(r.expires_at).toISOString(),
  usedAt: isoOrNull(r.used_at),
  revokedAt: isoOrNull(r.revoked_at),
});

/** What spending a refresh token found. */
export type SpendResult =
  | { kind: 'spent'; token: RefreshTokenRecord }
  /** It had been spent (or revoked) before: a replay. Its family is now revoked. */
  | { kind: 'reused'; token: RefreshTokenRecord }
  | { kind: 'expired'; token: RefreshTokenRecord }
  | { kind: 'unknown' };

/** JWT refresh tokens, stored by hash, rotated once each, revoked by family on reuse. */
export class RefreshTokenRepository {
  constructor(private readonly knex: Knex) {}

  async issue(input: { hash: string; userId: string; keyId: string; familyId?: string; expiresAt: Date }): Promise<RefreshTokenRecord> {
    const [row] = await this.knex('refresh_tokens')
      .insert({
        id: randomUUID(),
        family_id: input.familyId ?? randomUUID(),
        user_id: input.userId,
        key_id: input.keyId,
        hash: input.hash,
        expires_at: input.expiresAt,
      })
      .returning('*');
    return toRecord(row as Row);
  }

  /**
   * Marks the token with this hash used, atomically: of two concurrent refreshes with one token
   * exactly one spends it; the other is a reuse and revokes the family (OAuth 2.0 Security BCP,
   * refresh token rotation).
   */
  async spend(hash: string): Promise<SpendResult> {
    return this.knex.transaction(async (trx) => {
      const row = (await trx('refresh_tokens').where({ hash }).forUpdate().first()) as Row | undefined;
      if (!row) return { kind: 'unknown' as const };
      if (row.used_at !== null || row.revoked_at !== null) {
        await trx('refresh_tokens').where({ family_id: row.family_id }).whereNull('revoked_at').update({ revoked_at: trx.fn.now() });
        return { kind: 'reused' as const, token: toRecord(row) };
      }
      if (new Date(row.expires_at).getTime() <= Date.now()) return { kind: 'expired' as const, token: toRecord(row) };
      const [used] = await trx('refresh_tokens').where({ id: row.id }).update({ used_at: trx.fn.now() }).returning('*');
      return { kind: 'spent' as const, token: toRecord(used as Row) };
    });
  }
}
