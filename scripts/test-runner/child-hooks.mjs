// Preloaded into each test file's process by the runner. When the runner judges a file hung (its
// tests all ended but the process stays alive, or it ran past its timeout) it sends SIGUSR2: this
// writes what still keeps the event loop alive to the runner's event pipe, then exits, so the
// failure names the handles rather than just a file that never ended.
import { writeSync } from 'node:fs';

const fd = Number(process.env.CRUCIBLE_TEST_EVENTS_FD);

/** One line per live handle: its kind and whatever says where it came from (null: stdio). */
function describe(handle) {
  const kind = handle?.constructor?.name ?? typeof handle;
  try {
    if (kind === 'ChildProcess') return `ChildProcess pid ${handle.pid}: ${handle.spawnargs.join(' ').slice(0, 200)}`;
    if (kind === 'Server' || kind === 'Socket' || kind === 'TLSSocket') {
      if (typeof handle.address === 'function' && handle.listening) return `${kind} listening on ${JSON.stringify(handle.address())}`;
      if (handle.remoteAddress) return `${kind} ${handle.localAddress}:${handle.localPort} -> ${handle.remoteAddress}:${handle.remotePort}`;
      if (handle._handle?.fd !== undefined && handle._handle.fd >= 0 && handle._handle.fd <= 2) return null;
      if (handle._pipeName) return `${kind} pipe ${handle._pipeName}`;
    }
    // (Timers are not among the handles; the census below counts them.)
  if (kind === 'Timeout') return `Timeout ${handle._idleTimeout} ms${handle._repeat ? ' (interval)' : ''}: ${String(handle._onTimeout).slice(0, 120).replace(/\s+/g, ' ')}`;
  } catch {
    // A handle that cannot be described still counts by its kind.
  }
  return kind;
}

process.on('SIGUSR2', () => {
  // process._getActiveHandles is undocumented but is the only way to say which socket or timer it
  // is; getActiveResourcesInfo is the documented census (it also counts requests, e.g. fs reads).
  const handles = (process._getActiveHandles?.() ?? []).map(describe).filter(Boolean);
  const census = new Map();
  for (const r of process.getActiveResourcesInfo()) census.set(r, (census.get(r) ?? 0) + 1);
  const resources = [...census].map(([r, n]) => `${r} ×${n}`);
  if (Number.isInteger(fd)) writeSync(fd, `${JSON.stringify({ type: 'crucible:handles', handles, resources })}\n`);
  process.exit(70);
});
