/**
 * Output is data, whatever its bytes (issue 12). A program's stdout and stderr are kept as the
 * exact bytes it wrote; text is derived from them in one way only, here, so the evaluation JSON,
 * the SSE events, the site and the CLI all agree. Pure (TextDecoder is in Node and browsers).
 */

// Not fatal: invalid UTF-8 becomes U+FFFD (the WHATWG "maximal subpart" rule, as Node's
// Buffer#toString does), while NUL and every other control character are kept as they are.
const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** The text of output bytes: UTF-8, each invalid sequence replaced by U+FFFD, NUL kept. */
export function decodeOutput(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
