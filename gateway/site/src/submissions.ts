import type { EvaluationRequest } from './types';

// The API never returns an evaluation's code, so re-running needs the request as it was sent.
// It is kept in sessionStorage by evaluation id: re-run works for what this tab submitted.
const PREFIX = 'crucible.request.';
/** sessionStorage is ~5 MB per origin; old requests are dropped first when it is full. */
const KEEP = 50;

export function rememberRequest(id: string, request: EvaluationRequest): void {
  const index = readIndex().filter((i) => i !== id);
  index.push(id);
  while (index.length > KEEP) sessionStorage.removeItem(PREFIX + index.shift());
  for (;;) {
    try {
      sessionStorage.setItem(PREFIX + id, JSON.stringify(request));
      sessionStorage.setItem(`${PREFIX}index`, JSON.stringify(index));
      return;
    } catch {
      // Quota exceeded: drop the oldest and retry; give up quietly if this one alone is too big.
      const oldest = index.shift();
      if (oldest === undefined || oldest === id) return;
      sessionStorage.removeItem(PREFIX + oldest);
    }
  }
}

export function recallRequest(id: string): EvaluationRequest | undefined {
  const stored = sessionStorage.getItem(PREFIX + id);
  return stored ? (JSON.parse(stored) as EvaluationRequest) : undefined;
}

function readIndex(): string[] {
  try {
    return JSON.parse(sessionStorage.getItem(`${PREFIX}index`) ?? '[]') as string[];
  } catch {
    return [];
  }
}
