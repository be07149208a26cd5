import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeCursor, encodeCursor, isUuid } from '../src/cursor.js';
import { StorageInputError } from '../src/errors.js';

const isBadCursor = (error: unknown) => error instanceof StorageInputError && error.code === 'bad_cursor';
const token = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('list cursor', () => {
  it('round-trips a position through an opaque url-safe token', () => {
    const position = { createdAt: new Date().toISOString(), id: randomUUID() };
    const cursor = encodeCursor(position);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeCursor(cursor), position);
  });

  it('rejects anything it did not issue', () => {
    const id = randomUUID();
    const bad = [
      '',
      'not a cursor!',
      'bm9wZQ', // "nope": base64url but not JSON
      token({ createdAt: '2024-01-01T00:00:00.000Z', id }),
      token(['2024-01-01T00:00:00.000Z']),
      token(['2024-01-01T00:00:00.000Z', 'not-a-uuid']),
      token(['yesterday', id]),
      token(['2024', id]), // parses in JS, but not the form encodeCursor writes
      token([1704067200000, id]),
    ];
    for (const cursor of bad) assert.throws(() => decodeCursor(cursor), isBadCursor, JSON.stringify(cursor));
  });
});

describe('isUuid', () => {
  it('accepts canonical uuids only', () => {
    assert.equal(isUuid(randomUUID()), true);
    assert.equal(isUuid(randomUUID().toUpperCase()), true);
    for (const value of ['', 'nope', '1', `${randomUUID()}x`, "' OR 1=1 --"]) assert.equal(isUuid(value), false, value);
  });
});
