/** Nomad answered with an error status; `body` is its plain-text explanation (Nomad's errors are not JSON). */
export class NomadApiError extends Error {
  override readonly name = 'NomadApiError';
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly body: string,
  ) {
    super(`Nomad ${method} ${path}: ${status} ${body.trim().slice(0, 500) || '(no body)'}`);
  }

  /** 5xx (and 429) are worth retrying; a 4xx will fail the same way again. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 429;
  }
}

/** Nomad could not be reached at all (connection refused, DNS, TLS handshake, timeout). */
export class NomadUnreachableError extends Error {
  override readonly name = 'NomadUnreachableError';
  constructor(
    readonly method: string,
    readonly path: string,
    cause: unknown,
  ) {
    super(`Nomad ${method} ${path}: unreachable: ${describe(cause)}`, { cause });
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici hides the useful part (ECONNREFUSED, certificate errors) in `cause`.
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}
