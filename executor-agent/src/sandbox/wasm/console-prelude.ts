/**
 * JavaScript evaluated inside each fresh QuickJS context before the program. It evaluates to a
 * function that the host calls once with its private capabilities; they stay in this closure, so
 * the program sees only what is installed on the global object:
 *
 * - `console.log/info/debug` (stdout), `console.error/warn/trace` (stderr), `console.dir`,
 *   `console.assert`: arguments formatted like Node's util.format (strings as-is, `%s %d %i %f %j
 *   %o %O %c %%` in a leading string, other values inspected on one line), joined by spaces, ending
 *   with a newline.
 * - `stdin`: the whole standard input as a string. `args`: the arguments, an array of strings.
 * - `exit(code = 0)`: ends the program at once with that exit status (there is no `process`).
 *
 * Returns `{ formatError }` for the host to print an uncaught exception the way console would
 * (as the text's NUL-free pieces, like every string handed to the host).
 * Intrinsics are captured up front so a program that replaces them cannot break its own console.
 */
export const CONSOLE_PRELUDE = String.raw`(function (write, requestExit, stdinText, argList, capBytes) {
  'use strict';
  const G = globalThis;
  const ObjectKeys = Object.keys, ObjectIs = Object.is, isArray = Array.isArray;
  const call = Function.prototype.call.bind(Function.prototype.call);
  const slice = String.prototype.slice, replace = String.prototype.replace, split = String.prototype.split, wellFormed = String.prototype.toWellFormed, toStr = Object.prototype.toString;
  const stringify = JSON.stringify, StringCtor = String, NumberCtor = Number;
  const parseI = parseInt, parseF = parseFloat, MapProto = Map.prototype, SetProto = Set.prototype;
  const errorToString = Error.prototype.toString, dateISO = Date.prototype.toISOString;
  const mapEntries = Map.prototype.entries, setValues = Set.prototype.values;
  // Bytes each stream may still take (index = fd); write() returns the new value, -1 past the cap.
  const room = [0, capBytes, capBytes];
  const IDENT = /^[A-Za-z_$][\w$]*$/;
  const MAX_ITEMS = 100, MAX_DEPTH = 2;

  function emit(fd, text) {
    if (room[fd] < 0) return;
    // A program can print a string far beyond the cap; only the part that can matter leaves QuickJS.
    const out = text.length > room[fd] ? call(slice, text, 0, room[fd] + 1) : text;
    // The host reads a string as a C string, which ends at the first NUL: so text crosses in
    // NUL-free pieces, each with the count of NULs that follow it (issue 12: a NUL once dropped
    // everything after it).
    const pieces = noNul(out);
    const last = pieces.length - 1;
    let i = 0;
    while (i <= last) {
      const piece = pieces[i];
      let nuls = i < last ? 1 : 0;
      i++;
      while (i < last && pieces[i] === '') { nuls++; i++; }
      room[fd] = write(fd, piece, nuls);
      if (room[fd] < 0) return;
    }
  }

  /**
   * The text split at each NUL: the form in which any string can cross to the host whole. A lone
   * surrogate becomes U+FFFD first, as Node writes it (the C string would carry it as three
   * invalid bytes, three U+FFFD).
   */
  function noNul(text) {
    return call(split, call(wellFormed, text), '\0');
  }

  function quote(s) {
    return "'" + call(replace, s, /[\\'\n\r\t]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]) + "'";
  }

  function errorText(e) {
    let head;
    try { head = call(errorToString, e); } catch { head = 'Error'; }
    const stack = typeof e.stack === 'string' ? e.stack : '';
    // Like Node, at most ten frames: a stack overflow would otherwise print thousands.
    const frames = stack.split('\n').filter((l) => l !== '');
    return frames.length ? head + '\n' + frames.slice(0, 10).join('\n') : head;
  }

  function inspect(v, depth, seen) {
    switch (typeof v) {
      case 'string': return depth === 0 ? v : quote(v);
      case 'number': return ObjectIs(v, -0) ? '-0' : StringCtor(v);
      case 'bigint': return StringCtor(v) + 'n';
      case 'symbol': return call(Symbol.prototype.toString, v);
      case 'undefined': return 'undefined';
      case 'boolean': return v ? 'true' : 'false';
      case 'function': {
        const name = v.name ? ': ' + v.name : ' (anonymous)';
        return /^class\b/.test(call(Function.prototype.toString, v)) ? '[class' + (v.name ? ' ' + v.name : '') + ']' : '[Function' + name + ']';
      }
    }
    if (v === null) return 'null';
    if (seen.includes(v)) return '[Circular]';
    const tag = call(toStr, v);
    if (v instanceof Error || tag === '[object Error]') return errorText(v);
    if (tag === '[object Date]') { try { return call(dateISO, v); } catch { return 'Invalid Date'; } }
    if (tag === '[object RegExp]') return StringCtor(v);
    if (typeof v.then === 'function' && tag === '[object Promise]') return 'Promise {}';
    const inner = (x) => inspect(x, depth + 1, seen.concat([v]));
    const nested = depth > MAX_DEPTH;
    if (tag === '[object Map]') {
      if (nested) return '[Map]';
      const parts = [];
      for (const [k, x] of call(mapEntries, v)) { if (parts.length >= MAX_ITEMS) { parts.push('...'); break; } parts.push(inner(k) + ' => ' + inner(x)); }
      return 'Map(' + call(Object.getOwnPropertyDescriptor(MapProto, 'size').get, v) + ') ' + wrap('{', parts, '}');
    }
    if (tag === '[object Set]') {
      if (nested) return '[Set]';
      const parts = [];
      for (const x of call(setValues, v)) { if (parts.length >= MAX_ITEMS) { parts.push('...'); break; } parts.push(inner(x)); }
      return 'Set(' + call(Object.getOwnPropertyDescriptor(SetProto, 'size').get, v) + ') ' + wrap('{', parts, '}');
    }
    if (isArray(v) || ArrayBuffer.isView(v)) {
      if (nested) return '[Array]';
      const parts = [];
      const n = v.length;
      for (let i = 0; i < n && i < MAX_ITEMS; i++) parts.push(i in v ? inner(v[i]) : '<empty>');
      if (n > MAX_ITEMS) parts.push('... ' + (n - MAX_ITEMS) + ' more items');
      return (isArray(v) ? '' : (v.constructor && v.constructor.name || '') + '(' + n + ') ') + wrap('[', parts, ']');
    }
    if (nested) return '[Object]';
    const keys = ObjectKeys(v);
    const parts = [];
    for (let i = 0; i < keys.length && i < MAX_ITEMS; i++) {
      const k = keys[i];
      parts.push((IDENT.test(k) ? k : quote(k)) + ': ' + inner(v[k]));
    }
    if (keys.length > MAX_ITEMS) parts.push('... ' + (keys.length - MAX_ITEMS) + ' more properties');
    return wrap('{', parts, '}');
  }

  function wrap(open, parts, close) {
    return parts.length === 0 ? open + close : open + ' ' + parts.join(', ') + ' ' + close;
  }

  function format(argsIn) {
    const a = argsIn;
    let out = '';
    let next = 0;
    if (typeof a[0] === 'string') {
      next = 1;
      out = call(replace, a[0], /%[sdifjoOc%]/g, (m) => {
        if (m === '%%') return '%';
        if (next >= a.length) return m;
        const x = a[next++];
        switch (m) {
          case '%s': return typeof x === 'string' ? x : inspect(x, 1, []);
          case '%d': return typeof x === 'object' && x !== null ? 'NaN' : inspect(NumberCtor(x), 1, []);
          case '%i': return inspect(parseI(x), 1, []);
          case '%f': return inspect(parseF(x), 1, []);
          case '%j': try { return stringify(x); } catch { return '[Circular]'; }
          case '%c': return '';
          default: return inspect(x, 1, []);
        }
      });
    }
    for (let i = next; i < a.length; i++) out += (i === 0 ? '' : ' ') + inspect(a[i], 0, []);
    return out;
  }

  const log = (fd) => function () { emit(fd, format(arguments) + '\n'); };
  const console = {
    log: log(1), info: log(1), debug: log(1),
    error: log(2), warn: log(2),
    trace: function () { emit(2, 'Trace: ' + format(arguments) + '\n'); },
    dir: function (v) { emit(1, inspect(v, 1, []) + '\n'); },
    assert: function (ok) {
      if (ok) return;
      const rest = []; for (let i = 1; i < arguments.length; i++) rest.push(arguments[i]);
      emit(2, 'Assertion failed' + (rest.length ? ': ' + format(rest) : '') + '\n');
    },
  };
  const define = (name, value) => Object.defineProperty(G, name, { value, writable: true, configurable: true, enumerable: false });
  define('console', console);
  define('stdin', stdinText);
  define('args', argList);
  define('exit', function exit(code) {
    requestExit(code === undefined ? 0 : code);
    // The host now interrupts at its next check; the interrupt cannot be caught, so nothing after
    // exit() runs, not even a surrounding finally block.
    for (;;) {}
  });

  return {
    formatError(e) {
      const text = (e instanceof Error || call(toStr, e) === '[object Error]') ? errorText(e) : 'Uncaught ' + inspect(e, 1, []);
      return noNul(text.length > capBytes ? call(slice, text, 0, capBytes + 1) : text);
    },
  };
})`;
