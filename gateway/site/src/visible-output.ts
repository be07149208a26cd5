/**
 * Output is data, whatever its bytes (issue 12): the site shows every character a program wrote,
 * and never lets one act. A terminal would interpret control characters (ESC starts colour or
 * cursor sequences, CR returns to the line start and hides what came before), a browser would
 * let bidirectional overrides reorder the text around them, and some are simply invisible (NUL).
 * So each becomes a visible symbol, marked as such: the Control Pictures (␀ ␛ ␍ …) for C0 and
 * DEL, and its code point (⟨U+202E⟩) for C1 controls and the bidi and zero-width formatting
 * characters. Line feed and tab stay as they are: they are the layout of ordinary text.
 */

/** A run of output: plain text, or control characters shown as `shown`. */
export type OutputSegment = { text: string } | { control: string; shown: string };

// C0 but TAB and LF, DEL, C1, zero-width and bidi formatting, line and paragraph separators, BOM.
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]+/g;

/** The symbol one control character is shown as. */
export function controlPicture(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code < 0x20) return String.fromCodePoint(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  return `\u27e8U+${code.toString(16).toUpperCase().padStart(4, '0')}\u27e9`;
}

/** Splits output into plain runs and runs of control characters (each run one segment). */
export function outputSegments(text: string): OutputSegment[] {
  const out: OutputSegment[] = [];
  let at = 0;
  for (const m of text.matchAll(CONTROLS)) {
    if (m.index > at) out.push({ text: text.slice(at, m.index) });
    out.push({ control: m[0], shown: Array.from(m[0], controlPicture).join('') });
    at = m.index + m[0].length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}

/** A readable name for a run of controls, for its tooltip: "U+0000 U+001B". */
export function codePoints(control: string): string {
  return Array.from(control, (c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ');
}

/** The text with every control character replaced by its symbol, for plain-text places (an error line). */
export function visibleText(text: string): string {
  return text.replace(CONTROLS, (run) => Array.from(run, controlPicture).join(''));
}
