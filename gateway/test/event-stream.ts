import assert from 'node:assert/strict';
import type { Platform } from './platform.js';

/**
 * Follows an evaluation's event stream (`/v1/evaluations/{id}/events`) until its stdout matches
 * `pattern`, and returns the match: how a test acts *while* a program runs, on what the program
 * itself reported rather than on a delay. Throws if the evaluation ends first.
 */
export async function waitForStdout(p: Platform, id: string, pattern: RegExp): Promise<RegExpExecArray> {
  const res = await fetch(`${p.url}/v1/evaluations/${id}/events`, { headers: p.auth() });
  assert.equal(res.status, 200);
  const decoder = new TextDecoder();
  let text = '';
  let stdout = '';
  for await (const chunk of res.body!) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === 'stdout' && data) stdout += (JSON.parse(data) as { data: string }).data;
      const match = pattern.exec(stdout);
      // Leaving the loop releases the stream (the iterator's return cancels it).
      if (match) return match;
      if (event === 'done') throw new Error(`the evaluation ended before its stdout matched ${pattern}: ${data}`);
    }
  }
  throw new Error(`the event stream ended before stdout matched ${pattern}`);
}

/** Polls until the evaluation is terminal and returns it. */
export async function terminal(p: Platform, id: string): Promise<Record<string, any>> {
  for (;;) {
    const e = (await p.request('GET', `/v1/evaluations/${id}`)).json;
    if (['completed', 'failed', 'cancelled'].includes(e.status)) return e;
    await new Promise((r) => setTimeout(r, 200));
  }
}
