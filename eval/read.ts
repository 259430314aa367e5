/** Reading recorded JSON lines (truth.jsonl, tracks.jsonl) with exact integer t_ns. */
import { readFileSync } from 'node:fs';

/** Parses JSON lines; `t_ns` values become bigint (they exceed 2^53). */
export function readJsonLines<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        const quoted = l.replace(/"(t_ns|published_ns)":(-?\d+)/g, '"$1":"$2"');
        return JSON.parse(quoted, (k, v: unknown) => ((k === 't_ns' || k === 'published_ns') && typeof v === 'string' ? BigInt(v) : v)) as T;
      } catch (err) {
        throw new Error(`${file}: line ${i + 1}: ${(err as Error).message}`);
      }
    });
}
