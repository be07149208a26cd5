import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { EvaluationRequest } from './client.js';
import { CliError, usageError } from './errors.js';
import { languageOf, readSource, readText } from './source.js';

/** One evaluation of a batch and where it came from (a file name, or `FILE.jsonl:LINE`). */
export interface BatchItem {
  source: string;
  request: EvaluationRequest;
}

/**
 * The evaluations a batch path stands for: a directory gives one per file (language by
 * extension, unless `lang`; files of unknown extension are skipped and named in `skipped`); a
 * `.jsonl` file gives one request object per non-blank line. `defaults` fill in what a request
 * leaves out (its own limits win field by field).
 */
export async function readBatch(
  path: string,
  lang: string | undefined,
  defaults: Omit<EvaluationRequest, 'language'>,
): Promise<{ items: BatchItem[]; skipped: string[] }> {
  const info = await stat(path).catch(() => {
    throw new CliError(`cannot read ${path}: no such file or directory`, 'file', 2);
  });
  if (info.isDirectory()) return readDirectory(path, lang, defaults);
  if (!path.endsWith('.jsonl')) throw usageError(`batch takes a directory or a .jsonl file, got ${path}`);
  return { items: parseJsonl(basename(path), await readText(path, 'batch file'), lang, defaults), skipped: [] };
}

async function readDirectory(dir: string, lang: string | undefined, defaults: Omit<EvaluationRequest, 'language'>) {
  const items: BatchItem[] = [];
  const skipped: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.'));
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))) {
    const language = lang ?? languageOf(entry.name);
    if (!language) {
      skipped.push(entry.name);
      continue;
    }
    items.push({ source: entry.name, request: { language, files: [await readSource(join(dir, entry.name))], ...defaults } });
  }
  return { items, skipped };
}

/** Parses JSON lines of requests; `name` labels each item `name:LINE`. */
export function parseJsonl(name: string, text: string, lang: string | undefined, defaults: Omit<EvaluationRequest, 'language'>): BatchItem[] {
  const items: BatchItem[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const source = `${name}:${i + 1}`;
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      throw usageError(`${source} is not valid JSON`);
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) throw usageError(`${source} is not a JSON object`);
    const own = request as Partial<EvaluationRequest>;
    const limits = defaults.limits || own.limits ? { ...defaults.limits, ...own.limits } : undefined;
    // The server validates the rest: a bad line comes back as that item's error, not the batch's.
    items.push({ source, request: { ...defaults, ...(lang ? { language: lang } : {}), ...own, ...(limits ? { limits } : {}) } as EvaluationRequest });
  });
  return items;
}
