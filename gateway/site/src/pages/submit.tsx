import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { CodeEditor } from '../components/code-editor';
import { FileTabs } from '../components/file-tabs';
import { navigate } from '../router';
import { isSample, sampleFor } from '../samples';
import { rememberRequest, recallRequest } from '../submissions';
import type { EvaluationRequest, Limits, Priority, SourceFile } from '../types';
import { usePoll } from '../use-poll';

const FILE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,128}$/;
const LIMIT_FIELDS: { key: keyof Limits; label: string; step?: string }[] = [
  { key: 'timeoutMs', label: 'Time (ms)' },
  { key: 'memoryMb', label: 'Memory (MiB)' },
  { key: 'cpus', label: 'CPUs', step: '0.1' },
  { key: 'pids', label: 'Processes' },
  { key: 'outputBytes', label: 'Output per stream (bytes)' },
];

/** The form's state, seeded from a previous request when re-running with edits. */
function initialState(from?: string) {
  const previous = from ? recallRequest(from) : undefined;
  const language = previous?.language ?? '';
  const files: SourceFile[] = previous?.files ?? [{ name: sampleFor(language).file, content: previous?.code ?? '' }];
  const limits = Object.fromEntries(Object.entries(previous?.limits ?? {}).map(([k, v]) => [k, String(v)]));
  return { language, files, stdin: previous?.stdin ?? '', args: (previous?.args ?? []).join('\n'), limits, priority: previous?.priority ?? 'normal' };
}

/** Language, files, stdin, arguments, limits and priority; Ctrl+Enter (⌘+Enter) runs. */
export function SubmitPage({ from }: { from?: string }) {
  const languages = usePoll(api.languages, 5000);
  const [form] = useState(() => initialState(from));
  const [language, setLanguage] = useState(form.language);
  const [files, setFiles] = useState(form.files);
  const [active, setActive] = useState(0);
  const [stdin, setStdin] = useState(form.stdin);
  const [args, setArgs] = useState(form.args);
  const [limits, setLimits] = useState<Record<string, string>>(form.limits);
  const [priority, setPriority] = useState<Priority>(form.priority);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  const chosen = languages.data?.find((l) => l.id === language);

  // Until the user picks, follow the first available language (agents may come up after load).
  // A ref, not state: a pick between a render and this effect must win over the effect.
  const picked = useRef(Boolean(form.language));
  useEffect(() => {
    const list = languages.data;
    if (!list || picked.current || chosen?.available) return;
    const first = list.find((l) => l.available) ?? list[0];
    if (first) changeLanguage(first.id);
  }, [languages.data]);

  function changeLanguage(id: string) {
    const sample = sampleFor(id);
    const main = files[0]!;
    setLanguage(id);
    // Swap in the new language's sample only while the user has not written anything, and
    // rename the main file only if it still has the old language's default name.
    if (files.length === 1 && isSample(main.content)) setFiles([{ name: sample.file, content: sample.code }]);
    else if (main.name === sampleFor(language).file) setFiles([{ ...main, name: sample.file }, ...files.slice(1)]);
  }

  const updateFile = (i: number, change: Partial<SourceFile>) => setFiles(files.map((f, j) => (j === i ? { ...f, ...change } : f)));
  const addFile = () => {
    const n = files.length;
    setFiles([...files, { name: `file${n}${sampleFor(language).file.replace(/^main/, '')}`, content: '' }]);
    setActive(n);
  };
  const removeFile = (i: number) => {
    setFiles(files.filter((_, j) => j !== i));
    setActive(Math.max(0, i - 1));
  };

  function buildRequest(): EvaluationRequest | string {
    if (!language) return 'Choose a language.';
    const bad = files.find((f) => !FILE_NAME.test(f.name));
    if (bad) return `"${bad.name}" is not a valid file name: letters, digits, dot, dash and underscore only.`;
    if (new Set(files.map((f) => f.name)).size !== files.length) return 'Two files have the same name.';
    const request: EvaluationRequest = { language, priority };
    // One file under its default name is plain `code`; anything else keeps the names.
    if (files.length === 1 && files[0]!.name === sampleFor(language).file) request.code = files[0]!.content;
    else request.files = files;
    if (stdin) request.stdin = stdin;
    const argList = args.split('\n').filter((a) => a !== '');
    if (argList.length) request.args = argList;
    const chosenLimits = Object.fromEntries(Object.entries(limits).filter(([, v]) => v.trim() !== '').map(([k, v]) => [k, Number(v)]));
    if (Object.keys(chosenLimits).length) request.limits = chosenLimits;
    return request;
  }

  async function run() {
    if (busy) return;
    const request = buildRequest();
    if (typeof request === 'string') return setError(request);
    setBusy(true);
    setError('');
    try {
      const evaluation = await api.submit(request);
      rememberRequest(evaluation.id, request);
      navigate(`/evaluations/${evaluation.id}`);
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  }

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void run();
    }
  };
  const file = files[active] ?? files[0]!;

  return (
    <>
      <h1 tabIndex={-1}>Submit</h1>
      <form
        class="submit-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
        onKeyDown={onKeyDown}
      >
        <div class="field">
          <label for="language">Language</label>
          <select id="language" value={language} onChange={(e) => {
              picked.current = true;
              changeLanguage((e.currentTarget as HTMLSelectElement).value);
            }} aria-describedby="language-note">
            {!languages.data && <option value="">Loading…</option>}
            {languages.data?.map((l) => (
              <option key={l.id} value={l.id} disabled={!l.available}>
                {l.name} {l.version !== 'unknown' ? l.version : ''} · {l.runtime}
                {l.available ? '' : ` — unavailable: ${l.reason ?? 'unknown reason'}`}
              </option>
            ))}
          </select>
          <p id="language-note" class="hint">
            {languages.error ? `Languages could not be loaded: ${languages.error.message}` : chosen && !chosen.available ? `Unavailable: ${chosen.reason}` : 'Unavailable languages are listed, disabled, with the reason.'}
          </p>
        </div>

        <div class="field">
          <FileTabs files={files} active={active} onSelect={setActive} onAdd={addFile} onRemove={removeFile} />
          {files.length > 1 && (
            <div class="inline-field">
              <label for="file-name">File name</label>
              <input id="file-name" class="mono" value={file.name} onInput={(e) => updateFile(active, { name: (e.currentTarget as HTMLInputElement).value })} />
            </div>
          )}
          <label for="code" class="visually-hidden">Code of {file.name}</label>
          <CodeEditor id="code" value={file.content} onInput={(content) => updateFile(active, { content })} describedBy="code-hint" />
          <p id="code-hint" class="hint">Tab indents, Shift+Tab dedents; press Esc then Tab to leave the editor. Ctrl+Enter runs.</p>
        </div>

        <div class="two-columns">
          <div class="field">
            <label for="stdin">Standard input</label>
            <textarea id="stdin" class="mono" rows={4} value={stdin} onInput={(e) => setStdin((e.currentTarget as HTMLTextAreaElement).value)} />
          </div>
          <div class="field">
            <label for="args">Arguments <span class="hint-inline">(one per line)</span></label>
            <textarea id="args" class="mono" rows={4} value={args} onInput={(e) => setArgs((e.currentTarget as HTMLTextAreaElement).value)} />
          </div>
        </div>

        <fieldset class="limits">
          <legend>Limits <span class="hint-inline">(empty: server default; a request can only tighten the server maximum)</span></legend>
          {LIMIT_FIELDS.map((f) => (
            <div class="field" key={f.key}>
              <label for={`limit-${f.key}`}>{f.label}</label>
              <input
                id={`limit-${f.key}`}
                type="number"
                inputMode="numeric"
                min={f.step ? '0.1' : '1'}
                step={f.step ?? '1'}
                value={limits[f.key] ?? ''}
                onInput={(e) => setLimits({ ...limits, [f.key]: (e.currentTarget as HTMLInputElement).value })}
              />
            </div>
          ))}
          <div class="field">
            <label for="priority">Priority</label>
            <select id="priority" value={priority} onChange={(e) => setPriority((e.currentTarget as HTMLSelectElement).value as Priority)}>
              <option value="high">high</option>
              <option value="normal">normal</option>
              <option value="low">low</option>
            </select>
          </div>
        </fieldset>

        {error && <p class="notice error" role="alert">{error}</p>}
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || !chosen?.available}>
            {busy ? 'Submitting…' : 'Run'} <kbd>Ctrl+Enter</kbd>
          </button>
        </div>
      </form>
    </>
  );
}
