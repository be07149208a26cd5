// Runs one test file in its own Node process and reports what happened in it. No
// --test-force-exit: a file must end by itself, so an assertion that fires after its last test
// still fails it. A file whose tests have all ended but whose process stays alive has leaked a
// handle: after a grace period it is stopped and fails, naming what kept it alive.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const EVENTS_FD = 3;

/**
 * @typedef {{ name: string, path: string, outcome: 'pass'|'fail'|'skip'|'todo', skipReason?: string, error?: string }} TestResult
 * @typedef {{ file: string, status: number|null, signal: string|null, tests: TestResult[],
 *   hung?: { reason: 'leak'|'timeout', handles: string[], resources: string[], running: string[] },
 *   durationMs: number }} FileResult
 */

/**
 * @param {string} root the checkout (the file's process runs there)
 * @param {string} file relative to root
 * @param {{ leakGraceMs: number, timeoutMs: number }} limits
 * @returns {Promise<FileResult>}
 */
export function runFile(root, file, { leakGraceMs, timeoutMs }) {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', '--conditions=source', '--import', here('child-hooks.mjs'),
      '--test-reporter=spec', '--test-reporter-destination=stdout',
      `--test-reporter=${new URL('events-reporter.mjs', import.meta.url).href}`, '--test-reporter-destination=stderr',
      file,
    ],
    // Its own process group, so what a hung file started (servers, helpers) is stopped with it.
    { cwd: root, stdio: ['inherit', 'inherit', 'inherit', 'pipe'], detached: true, env: { ...process.env, CRUCIBLE_TEST_EVENTS_FD: String(EVENTS_FD) } },
  );
  const stopGroup = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } };
  const onSignal = () => { stopGroup(); process.exit(130); };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const tests = [];
  const stack = []; // names of the tests reported so far, by nesting (for "suite > test" paths)
  const active = []; // names of the tests executing now, by nesting
  let enqueued = 0;
  let ended = 0;
  let hung;
  let hungReason;
  let idleTimer;
  let stopTimer;
  const running = () => active.filter(Boolean);

  // Top-level tests are enqueued as the file defines them; when every one of them has ended the
  // file is done, and a process still alive after the grace period (generous: root after() hooks
  // that stop containers run in it) is held open by something the file forgot.
  const judgeIdle = () => {
    clearTimeout(idleTimer);
    if (enqueued > 0 && ended === enqueued) idleTimer = setTimeout(() => askHandles('leak'), leakGraceMs);
  };
  const askHandles = (reason) => {
    if (hungReason) return;
    hungReason = reason;
    try { process.kill(child.pid, 'SIGUSR2'); } catch { /* already gone */ }
    // A process too stuck to answer (a synchronous loop) is stopped anyway.
    stopTimer = setTimeout(stopGroup, 5000);
  };
  const timeout = setTimeout(() => askHandles('timeout'), timeoutMs);

  createInterface({ input: child.stdio[EVENTS_FD] }).on('line', (line) => {
    let ev;
    try { ev = JSON.parse(line); } catch { return; }
    if (ev.type === 'test:enqueue' && ev.nesting === 0) { enqueued += 1; judgeIdle(); }
    else if (ev.type === 'test:dequeue') { active.length = ev.nesting; active[ev.nesting] = ev.name; }
    else if (ev.type === 'test:start') { stack.length = ev.nesting; stack[ev.nesting] = ev.name; }
    else if (ev.type === 'test:pass' || ev.type === 'test:fail') {
      if (ev.nesting === 0) { ended += 1; judgeIdle(); }
      const path = [...stack.slice(0, ev.nesting), ev.name].join(' > ');
      stack.length = ev.nesting;
      if (active[ev.nesting] === ev.name) active.length = ev.nesting;
      if (ev.suite) {
        // A suite counts only when it fails by itself (a hook threw); its tests count on their own.
        if (ev.type === 'test:fail' && !tests.some((t) => t.path.startsWith(`${path} > `) && t.outcome === 'fail')) {
          tests.push({ name: ev.name, path, outcome: 'fail', error: ev.error });
        }
        return;
      }
      const outcome = ev.type === 'test:fail' ? 'fail' : ev.skip !== false ? 'skip' : ev.todo !== false ? 'todo' : 'pass';
      const why = outcome === 'skip' ? ev.skip : outcome === 'todo' ? ev.todo : undefined;
      tests.push({ name: ev.name, path, outcome, skipReason: typeof why === 'string' ? why : undefined, error: ev.error });
    } else if (ev.type === 'crucible:handles') {
      hung = { reason: hungReason ?? 'leak', handles: ev.handles, resources: ev.resources, running: running() };
    }
  });

  return new Promise((resolve) => {
    // 'close', not 'exit': the event pipe is drained by then, so no test's result is lost.
    child.on('close', (status, signal) => {
      clearTimeout(idleTimer);
      clearTimeout(timeout);
      clearTimeout(stopTimer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // Whatever the file left running in its group is stopped with it (not judged: tsx's esbuild
      // service is one such process, on its way out by itself).
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* nothing left */ }
      if (hungReason && !hung) hung = { reason: hungReason, handles: [], resources: ['(the process did not answer SIGUSR2)'], running: running() };
      resolve({ file, status, signal, tests, hung, durationMs: Date.now() - started });
    });
  });
}
