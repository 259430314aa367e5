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

/** One readable line. */
export function toHumanLine(subject: string, value: unknown): string {
  return `${subject} ${inspect(value, { depth: 6, breakLength: Infinity, colors: Boolean(process.stdout.isTTY), maxArrayLength: 20 })}`;
}
