import type { SourceFile } from '../types';

/**
 * The files of a submission as a row of buttons; the first is the main file (API.md). Buttons
 * rather than an ARIA tablist: every file is one Tab stop away and needs no arrow-key model.
 */
export function FileTabs(props: { files: SourceFile[]; active: number; onSelect: (i: number) => void; onAdd: () => void; onRemove: (i: number) => void }) {
  return (
    <div class="file-tabs" role="group" aria-label="Files">
      {props.files.map((f, i) => (
        <button
          type="button"
          key={i}
          class={`file-tab${i === props.active ? ' active' : ''}`}
          aria-pressed={i === props.active}
          onClick={() => props.onSelect(i)}
        >
          {f.name || '(unnamed)'}
          {i === 0 && <span class="tab-note"> main</span>}
        </button>
      ))}
      <button type="button" class="file-tab add" onClick={props.onAdd}>+ Add file</button>
      {props.files.length > 1 && (
        <button type="button" class="file-tab remove" onClick={() => props.onRemove(props.active)}>
          Remove {props.files[props.active]?.name || 'file'}
        </button>
      )}
    </div>
  );
}
