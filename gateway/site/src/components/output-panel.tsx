import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { codePoints, outputSegments } from '../visible-output';

/**
 * One output stream. The program's output is data: it is only ever text nodes, never parsed as
 * HTML, so markup or script in it shows literally; control characters show as visible symbols
 * in a marked span (visible-output.ts), never acting. Copy and Download give the text itself.
 * Follows the end while the reader is there.
 */
export function OutputPanel(props: { name: 'stdout' | 'stderr'; text: string; truncatedNotice?: string; fileStem: string; live: boolean }) {
  const pre = useRef<HTMLPreElement>(null);
  const segments = useMemo(() => outputSegments(props.text), [props.text]);
  const atEnd = useRef(true);
  const [copied, setCopied] = useState('');

  useLayoutEffect(() => {
    const el = pre.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
  }, [props.text]);

  const onScroll = () => {
    const el = pre.current!;
    atEnd.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
  };

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setCopied('Copied.');
    } catch {
      setCopied('Copying was refused by the browser.');
    }
    setTimeout(() => setCopied(''), 2500);
  };

  const download = () => {
    const url = URL.createObjectURL(new Blob([props.text], { type: 'text/plain;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `${props.fileStem}.${props.name}.txt`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const headingId = `${props.name}-heading`;
  return (
    <section class="output" aria-labelledby={headingId}>
      <div class="output-head">
        <h3 id={headingId}>{props.name}</h3>
        <span class="muted">{props.text.length ? `${props.text.length.toLocaleString()} chars` : props.live ? 'waiting…' : 'empty'}</span>
        <span class="spacer" />
        <button type="button" class="small" onClick={copy} disabled={!props.text}>Copy<span class="visually-hidden"> {props.name}</span></button>
        <button type="button" class="small" onClick={download} disabled={!props.text}>Download<span class="visually-hidden"> {props.name}</span></button>
        <span role="status" class="muted">{copied}</span>
      </div>
      {props.truncatedNotice && <p class="notice warn">{props.truncatedNotice}</p>}
      <pre ref={pre} class={`output-text ${props.name}`} tabIndex={0} aria-labelledby={headingId} onScroll={onScroll} data-stream={props.name}>
        {segments.map((s) => ('text' in s ? s.text : <span class="ctl" title={codePoints(s.control)}>{s.shown}</span>))}
      </pre>
    </section>
  );
}
