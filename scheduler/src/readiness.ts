import type { Driver } from './scheduler.js';

/** One dependency's state for /readyz. */
export interface Check {
  ok: boolean;
  detail?: string;
}

/** Named checks: each resolves with an optional detail when fine, and throws why when not. */
export type ReadinessChecks = Record<string, () => Promise<string | undefined>>;

/**
 * Runs every check at once; a check that throws or takes over `timeoutMs` is not ok, with why.
 * The one place /readyz is judged, for the gateway and for a standalone scheduler.
 */
export async function readiness(checks: ReadinessChecks, timeoutMs = 5000): Promise<Record<string, Check>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, fn]): Promise<[string, Check]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        const detail = await Promise.race([fn(), timeout]);
        return [name, detail === undefined ? { ok: true } : { ok: true, detail }];
      } catch (err) {
        return [name, { ok: false, detail: err instanceof Error ? err.message : String(err) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** The driver's check: the nomad driver says whether Nomad answers; the local one has nothing to report. */
export function driverCheck(driver: Pick<Driver, 'name' | 'status'>): () => Promise<string | undefined> {
  return async () => {
    const status = (await driver.status?.()) ?? { ok: true, detail: driver.name };
    if (!status.ok) throw new Error(status.detail);
    return status.detail;
  };
}
