/**
 * Why applying a report failed, in the two kinds the collector treats differently:
 *
 * - `outage`: storage (or Redis) could not be reached or gave up for a reason that says nothing
 *   about the report — connection refused/reset, a timeout, the server shutting down, a pool that
 *   is gone. The same report will be accepted once storage is back, so it is held, however long.
 * - `rejected`: storage answered and refused this report (a constraint, an encoding error, a value
 *   out of range), or applying it threw for any other reason (a bug). Retrying cannot help forever,
 *   so the collector retries it a bounded number of times and then gives up on that one evaluation.
 *
 * Anything not recognised as an outage is `rejected`: an unknown error held forever is what
 * stalled the platform (issue 12); an unknown error given up on costs one evaluation.
 */
export type FailureKind = 'outage' | 'rejected';

/** Socket-level errors (Node's `err.code`): the peer is unreachable, not unwilling. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/**
 * PostgreSQL SQLSTATE classes and codes that describe the server, not the statement
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html): 08 connection exception,
 * 53 insufficient resources (disk full, out of memory, too many connections), 57 operator
 * intervention (admin/crash shutdown, cannot connect now, statement timeout), 58 system error (I/O);
 * 40001/40P01 (serialization failure, deadlock) succeed when run again.
 */
const OUTAGE_SQLSTATE_CLASSES: readonly string[] = ['08', '53', '57', '58'];
const OUTAGE_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01']);

/** Messages of client libraries that carry no code: pg, knex/tarn, PGlite, ioredis. */
const OUTAGE_MESSAGES: readonly RegExp[] = [
  /^Connection terminated/, // pg: the server closed the socket (stopped, restarted, crashed)
  /connection error and is not queryable/, // pg: a client whose socket already failed
  /^Client was closed and is not queryable/, // pg: a client ended under a pending query
  /^Unable to acquire a connection/, // knex: the pool was destroyed
  /^PGlite is closed/, // PGlite: the embedded database was closed
  /^Connection is closed\./, // ioredis: publishing an event while Redis is away
];

/** Names of timeout errors thrown by the pool (knex) and by ioredis' retry limit. */
const OUTAGE_NAMES: ReadonlySet<string> = new Set(['KnexTimeoutError', 'MaxRetriesPerRequestError', 'TimeoutError']);

/** Classifies an error thrown while applying a report. Pure: looks only at the error (and its causes). */
export function failureKind(err: unknown): FailureKind {
  return isOutage(err, 0) ? 'outage' : 'rejected';
}

function isOutage(err: unknown, depth: number): boolean {
  if (depth > 5 || typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (NETWORK_CODES.has(e.code)) return true;
    if (/^[0-9A-Z]{5}$/.test(e.code)) {
      // A SQLSTATE is the server's own verdict: trust it over any message.
      return OUTAGE_SQLSTATES.has(e.code) || OUTAGE_SQLSTATE_CLASSES.includes(e.code.slice(0, 2));
    }
  }
  if (typeof e.name === 'string' && OUTAGE_NAMES.has(e.name)) return true;
  if (typeof e.message === 'string') {
    // knex prefixes the statement ("ROLLBACK - Connection terminated unexpectedly"): match the rest.
    const cut = e.message.lastIndexOf(' - ');
    const text = cut >= 0 ? e.message.slice(cut + 3) : e.message;
    if (OUTAGE_MESSAGES.some((re) => re.test(text))) return true;
  }
  // Node wraps dual-stack connect failures in an AggregateError; libraries chain with `cause`.
  if (Array.isArray(e.errors) && e.errors.some((inner) => isOutage(inner, depth + 1))) return true;
  return isOutage(e.cause, depth + 1);
}

/**
 * The cause of a rejection, as a platform error text for the evaluation: the SQLSTATE when there
 * is one, and the message with the statement knex prefixes cut off (it can hold program data),
 * control characters replaced (the text must be storable itself) and the length bounded.
 */
export function describeRejection(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as { code?: unknown; message?: unknown; name?: unknown };
  let message = typeof e.message === 'string' ? e.message : String(err);
  // knex formats database errors as "<sql> - <server message>".
  const dash = message.lastIndexOf(' - ');
  if (typeof e.code === 'string' && dash >= 0) message = message.slice(dash + 3);
  // eslint-disable-next-line no-control-regex
  message = message.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, 300);
  const code = typeof e.code === 'string' ? ` ${e.code}` : '';
  const name = typeof e.name === 'string' && e.name !== 'error' && e.name !== 'Error' ? `${e.name}` : 'error';
  return `${name}${code}: ${message}`;
}
