import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { OutcomeBadge, StatusBadge } from '../components/badges';
import { OutputPanel } from '../components/output-panel';
import { StatusTimeline, type SeenStatus } from '../components/status-timeline';
import { followEvaluation } from '../event-stream';
import { clockTime, explainExit, formatBytes, formatMs } from '../explain';
import { navigate } from '../router';
import { recallRequest, rememberRequest } from '../submissions';
import { isTerminal, type Evaluation } from '../types';

/**
 * One evaluation, live: output as it streams, the status timeline, and when it ends the exit
 * explained. Reads the evaluation once, then follows its event stream until `done`.
 */
export function EvaluationPage({ id }: { id: string }) {
  const [evaluation, setEvaluation] = useState<Evaluation>();
  const [seen, setSeen] = useState<SeenStatus[]>([]);
  const [output, setOutput] = useState({ stdout: '', stderr: '' });
  const [error, setError] = useState('');
  const [actionError, setActionError] = useState('');
  const pending = useRef({ stdout: '', stderr: '' });

  useEffect(() => {
    let stop = () => {};
    let frame = 0;
    // Chunks can arrive hundreds a second: render at most once per frame.
    const flush = () => {
      frame = 0;
      const chunk = pending.current;
      pending.current = { stdout: '', stderr: '' };
      setOutput((o) => ({ stdout: o.stdout + chunk.stdout, stderr: o.stderr + chunk.stderr }));
    };
    const append = (stream: 'stdout' | 'stderr', data: string) => {
      pending.current[stream] += data;
      frame ||= requestAnimationFrame(flush);
    };
    setEvaluation(undefined);
    setSeen([]);
    setOutput({ stdout: '', stderr: '' });
    setError('');
    api.get(id).then(
      (e) => {
        setEvaluation((current) => current ?? e);
        stop = followEvaluation(id, {
          status: ({ status, outcome }) => {
            setSeen((s) => [...s, { status, at: new Date().toISOString() }]);
            setEvaluation((current) => (current && !isTerminal(current.status) ? { ...current, status, outcome: outcome ?? current.outcome } : current));
          },
          stdout: ({ data }) => append('stdout', data),
          stderr: ({ data }) => append('stderr', data),
          done: (done) => setEvaluation(done),
          failed: (err) => setError(err.message),
        });
      },
      (err: Error) => setError(err.message),
    );
    return () => {
      stop();
      cancelAnimationFrame(frame);
    };
  }, [id]);

  useEffect(() => {
    document.title = evaluation ? `${evaluation.status} · ${evaluation.language} · Crucible` : 'Evaluation · Crucible';
  }, [evaluation?.status]);

  if (error && !evaluation) {
    return (
      <>
        <h1 tabIndex={-1}>Evaluation</h1>
        <p class="notice error" role="alert">{error}</p>
      </>
    );
  }
  if (!evaluation) return <h1 tabIndex={-1}>Evaluation <span class="muted">loading…</span></h1>;

  const e = evaluation;
  const terminal = isTerminal(e.status);
  // The stored output and the streamed one are the same, except that a cancelled run stores
  // none of what it printed while the stream (and its replay) still has it: show the longer.
  const stdout = longer(e.stdout, output.stdout);
  const stderr = longer(e.stderr, output.stderr);
  const previous = recallRequest(e.id);

  const cancel = async () => {
    setActionError('');
    try {
      setEvaluation(await api.cancel(e.id));
    } catch (err) {
      setActionError((err as Error).message);
    }
  };
  const rerun = async () => {
    if (!previous) return;
    setActionError('');
    try {
      const next = await api.submit(previous);
      rememberRequest(next.id, previous);
      navigate(`/evaluations/${next.id}`);
    } catch (err) {
      setActionError((err as Error).message);
    }
  };

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>
          Evaluation <span class="mono id">{e.id}</span>
        </h1>
        <div class="badges" role="status" aria-live="polite" aria-atomic="true">
          <span class="visually-hidden">Status: </span>
          <StatusBadge status={e.status} />
          {e.outcome && <OutcomeBadge outcome={e.outcome} />}
        </div>
      </div>

      <div class="actions">
        {!terminal && <button type="button" class="danger" onClick={cancel}>Cancel</button>}
        <button type="button" onClick={rerun} disabled={!previous} aria-describedby={previous ? undefined : 'rerun-hint'}>Re-run</button>
        <button type="button" onClick={() => navigate(`/submit?from=${e.id}`)} disabled={!previous}>Edit and re-run</button>
        {!previous && <span id="rerun-hint" class="hint">Re-run needs the code, which the API does not return: it works for evaluations submitted from this tab.</span>}
      </div>
      {actionError && <p class="notice error" role="alert">{actionError}</p>}
      {error && <p class="notice error" role="alert">Live updates stopped: {error}</p>}

      <StatusTimeline evaluation={e} seen={seen} />

      <section class="result" aria-label="Result">
        <dl class="facts">
          <div><dt>Language</dt><dd>{e.language} <span class="muted">({e.runtime})</span></dd></div>
          <div><dt>Exit</dt><dd data-testid="exit">{terminal ? explainExit(e) : 'Not finished yet.'}</dd></div>
          <div><dt>Duration</dt><dd>{formatMs(e.durationMs)}</dd></div>
          <div><dt>Priority</dt><dd>{e.priority}</dd></div>
          <div><dt>Attempts</dt><dd>{e.attempts}</dd></div>
          <div><dt>Created</dt><dd>{clockTime(e.createdAt)}</dd></div>
          <div class="wide">
            <dt>Limits</dt>
            <dd>
              {formatMs(e.limits.timeoutMs)} · {e.limits.memoryMb} MiB · {e.limits.cpus} CPU · {e.limits.pids} processes · {formatBytes(e.limits.outputBytes)} output per stream
            </dd>
          </div>
          {e.error && <div class="wide"><dt>{e.status === 'failed' ? 'Platform error' : 'Note'}</dt><dd>{e.error}</dd></div>}
        </dl>
      </section>

      <OutputPanel name="stdout" text={stdout} live={!terminal} fileStem={e.id} truncatedNotice={e.stdoutTruncated ? `stdout was cut at the output limit (${formatBytes(e.limits.outputBytes)}); what follows is only its start.` : undefined} />
      <OutputPanel name="stderr" text={stderr} live={!terminal} fileStem={e.id} truncatedNotice={e.stderrTruncated ? `stderr was cut at the output limit (${formatBytes(e.limits.outputBytes)}); what follows is only its start.` : undefined} />
    </>
  );
}

const longer = (a: string, b: string) => (b.length > a.length ? b : a);
