/**
 * Recorded judge answers: one JSON line per (judge model, metric, prompt version, input), holding
 * the judge's raw answer texts, so an offline run replays exactly what the judge said.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { parseJsonl } from '../dataset.js';

export const Recording = z
  .object({
    key: z.string(),
    model: z.string(),
    metric: z.string(),
    promptVersion: z.string(),
    /** Where the answer came from, e.g. `mock-llm (rule verdicts)` or the real model's name. */
    source: z.string(),
    /** The judge's raw answer text, one per repetition. */
    contents: z.array(z.string()).min(1),
  })
  .strict();
export type Recording = z.infer<typeof Recording>;

export interface RecordingStore {
  get(key: string): Recording | undefined;
  put(recording: Recording): void;
  size(): number;
  /** Keeps only the recordings `keep` accepts (drops stale ones before re-recording). */
  retain(keep: (recording: Recording) => boolean): void;
  /** Writes the file, sorted by key (stable diffs). */
  save(): void;
}

/** Opens (or starts) the recordings file. */
export function openRecordings(file: string): RecordingStore {
  const map = new Map<string, Recording>();
  if (existsSync(file)) for (const r of parseJsonl(readFileSync(file, 'utf8'), Recording, file)) map.set(r.key, r);
  return {
    get: (key) => map.get(key),
    put: (recording) => void map.set(recording.key, recording),
    size: () => map.size,
    retain(keep) {
      for (const [key, recording] of map) if (!keep(recording)) map.delete(key);
    },
    save() {
      mkdirSync(dirname(file), { recursive: true });
      const lines = [...map.values()].sort((a, b) => a.key.localeCompare(b.key)).map((r) => JSON.stringify(r));
      writeFileSync(file, lines.join('\n') + '\n');
    },
  };
}
