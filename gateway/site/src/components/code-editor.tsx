import { useRef } from 'preact/hooks';

const INDENT = '    ';

/**
 * A plain textarea that indents with Tab and dedents with Shift+Tab. Escape releases the next Tab
 * to move focus on, so keyboard users are never trapped (WCAG 2.1.2).
 */
export function CodeEditor(props: { id: string; value: string; onInput: (value: string) => void; describedBy?: string; rows?: number }) {
  const escaped = useRef(false);

  const onKeyDown = (e: KeyboardEvent) => {
    const area = e.currentTarget as HTMLTextAreaElement;
    if (e.key === 'Escape') {
      escaped.current = true;
      return;
    }
    if (e.key !== 'Tab' || e.ctrlKey || e.altKey || e.metaKey || escaped.current) {
      escaped.current = false;
      return;
    }
    e.preventDefault();
    const { selectionStart: start, selectionEnd: end, value } = area;
    const lineStart = value.lastIndexOf('\n', start - 1) + 1;
    if (!e.shiftKey && start === end) {
      insert(area, start, end, INDENT);
    } else {
      // Indent or dedent every line the selection touches.
      const block = value.slice(lineStart, end);
      const changed = e.shiftKey ? block.replace(/^( {1,4}|\t)/gm, '') : block.replace(/^/gm, INDENT);
      insert(area, lineStart, end, changed);
      area.setSelectionRange(lineStart, lineStart + changed.length);
    }
    props.onInput(area.value);
  };

  return (
    <textarea
      id={props.id}
      class="code"
      rows={props.rows ?? 14}
      spellcheck={false}
      autocapitalize="off"
      autocomplete="off"
      wrap="off"
      value={props.value}
      aria-describedby={props.describedBy}
      onInput={(e) => props.onInput((e.currentTarget as HTMLTextAreaElement).value)}
      onKeyDown={onKeyDown}
    />
  );
}

/** Replaces a range keeping the browser's undo history where it can (execCommand does). */
function insert(area: HTMLTextAreaElement, start: number, end: number, text: string): void {
  area.setSelectionRange(start, end);
  if (!document.execCommand('insertText', false, text)) area.setRangeText(text, start, end, 'end');
}
