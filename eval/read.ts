/** Reading recorded JSON lines (truth.jsonl, tracks.jsonl) with exact integer t_ns. */
import { readFileSync } from 'node:fs';

/** Parses JSON lines; top-level `t_ns` and `published_ns` become bigint (they exceed 2^53). */
export function readJsonLines<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        // Quoted before parsing, so no digit is lost; converted after (a reviver would visit every value).
        const o = JSON.parse(l.replace(/"(t_ns|published_ns)":(-?\d+)/g, '"$1":"$2"')) as Record<string, unknown>;
        for (const k of ['t_ns', 'published_ns']) if (typeof o[k] === 'string') o[k] = BigInt(o[k] as string);
        return o as T;
      } catch (err) {
        throw new Error(`${file}: line ${i + 1}: ${(err as Error).message}`);
      }
    });
}
