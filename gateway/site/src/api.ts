import { authorization } from './session';
import type { Evaluation, EvaluationRequest, Language, Page, QueueState, Status } from './types';

/** An API error body (`{error: {code, message}}`) or a failed connection, as one error type. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Called when the API answers 401, so the app can send the user to sign in. */
let onUnauthenticated = () => {};
export function whenUnauthenticated(handler: () => void): void {
  onUnauthenticated = handler;
}

/** Headers every request carries: the credential, and what we accept. */
export async function apiHeaders(accept = 'application/json'): Promise<Record<string, string>> {
  const auth = await authorization();
  return auth ? { accept, authorization: auth } : { accept };
}

/** Turns a non-2xx response into an ApiError, reading the API's error body when there is one. */
export async function errorFrom(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
  if (res.status === 401) onUnauthenticated();
  return new ApiError(res.status, body?.error?.code ?? 'http_error', body?.error?.message ?? `HTTP ${res.status}`);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers = await apiHeaders();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'unreachable', 'The gateway cannot be reached.');
  }
  if (!res.ok) throw await errorFrom(res);
  return (await res.json()) as T;
}

export interface ListQuery {
  status?: Status | '';
  language?: string;
  limit?: number;
  cursor?: string | null;
}

function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  languages: () => request<Language[]>('GET', '/v1/languages'),
  queue: () => request<QueueState>('GET', '/v1/queue'),
  list: (q: ListQuery = {}) => request<Page<Evaluation>>('GET', `/v1/evaluations${query({ ...q })}`),
  get: (id: string) => request<Evaluation>('GET', `/v1/evaluations/${encodeURIComponent(id)}`),
  submit: (body: EvaluationRequest) => request<Evaluation>('POST', '/v1/evaluations', body),
  cancel: (id: string) => request<Evaluation>('POST', `/v1/evaluations/${encodeURIComponent(id)}/cancel`),
};
