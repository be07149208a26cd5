/**
 * Runs a Redis call that is only an optimisation or an extra check, giving up after `ms`: Redis may
 * be away at any time (PostgreSQL is the truth), and ioredis would otherwise hold the request while
 * it reconnects. Resolves `undefined` on error or timeout.
 */
export async function soft<T>(call: () => Promise<T>, ms = 300): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([call().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
