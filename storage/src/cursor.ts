import { StorageInputError } from './errors.js';

/** A position in the newest-first list: the last item's (created_at, id). */
export interface ListPosition {
  createdAt: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a uuid in canonical text form; checked before querying so a bad id is "not found", not a DB error. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Encodes a list position as an opaque base64url token; clients must not parse it. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt, position.id]), 'utf8').toString('base64url');
}

/** Decodes {@link encodeCursor}'s token; anything else throws a `bad_cursor` StorageInputError. */
export function decodeCursor(cursor: string): ListPosition {
  const bad = () => new StorageInputError('invalid cursor', 'bad_cursor');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw bad();
  const [createdAt, id] = parsed as unknown[];
  if (typeof createdAt !== 'string' || typeof id !== 'string' || !isUuid(id)) throw bad();
  // Only the exact form encodeCursor writes: anything looser might parse in JS yet not in SQL.
  const time = new Date(createdAt);
  if (Number.isNaN(time.getTime()) || time.toISOString() !== createdAt) throw bad();
  return { createdAt, id };
}
