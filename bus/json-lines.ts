/** Decoded messages as text: JSON lines for programs (recordings, `tail --json`), one line for people. */
import { inspect } from 'node:util';

/** JSON with uint64 values as exact integers and `bin` as base64 strings. */
export function toJsonLine(value: unknown): string {
  const marks: string[] = [];
  const tag = `__skyvox_u64_${Math.random().toString(36).slice(2)}_`;
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') {
      marks.push(v.toString());
      return `${tag}${marks.length - 1}`;
    }
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data).toString('base64');
    }
    return v;
  });
  return marks.length === 0 ? text : text.replace(new RegExp(`"${tag}(\\d+)"`, 'g'), (_m, i: string) => marks[Number(i)] as string);
}

/** Packed binary fields (covariances, blob tables) as their size: their bytes mean nothing to a reader. */
class Packed {
  constructor(readonly bytes: number) {}
  [inspect.custom](): string {
    return `<bin ${this.bytes} bytes>`;
  }
}

/** The value with every Uint8Array replaced by its size. */
function withBinSizes(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Packed(value.byteLength);
  if (Array.isArray(value)) return value.map(withBinSizes);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withBinSizes(v)]));
  return value;
}

/** One readable line (`compact: Infinity`: Node's inspect breaks the outer levels of a nested value otherwise). */
export function toHumanLine(subject: string, value: unknown, colors = Boolean(process.stdout.isTTY)): string {
  return `${subject} ${inspect(withBinSizes(value), { depth: 6, breakLength: Infinity, compact: Infinity, colors, maxArrayLength: 20 })}`;
}
