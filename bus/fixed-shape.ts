/**
 * Fixed-shape encoding: for a message sent over and over with the same fields and, mostly, the
 * same strings (telemetry), the MessagePack bytes are laid out once and only the numbers are
 * rewritten in place. Every number has a fixed-width format (float64 for `Number`, int64/uint64
 * for `Integer` and `BigInt`), which standard MessagePack allows and every decoder reads, so
 * the bytes keep their length and layout until a string changes — then they are laid out anew.
 */
import { Kind, KindGuard, type Static, type TSchema } from '@sinclair/typebox';
import { explain, InvalidMessageError, type MessageType } from '../schemas/message.js';
import type { EncodedMessage } from './bus.js';
import { encode } from './codec.js';

type Fixed = 'float64' | 'int64' | 'uint64' | 'bigint' | 'bool';
type Node = { kind: 'object'; keys: readonly string[]; fields: readonly Node[] } | { kind: Fixed | 'string' };

/** Error for a schema the fixed-shape encoder cannot lay out; names the field. */
export class FixedShapeSchemaError extends Error {
  override name = 'FixedShapeSchemaError';
}

function shape(schema: TSchema, path: string): Node {
  if (KindGuard.IsObject(schema)) {
    const required = new Set(schema.required ?? []);
    const keys = Object.keys(schema.properties);
    for (const k of keys) if (!required.has(k)) throw new FixedShapeSchemaError(`${path}${k}: optional fields have no fixed shape`);
    return { kind: 'object', keys, fields: keys.map((k) => shape(schema.properties[k]!, `${path}${k}.`)) };
  }
  if (KindGuard.IsNumber(schema)) return { kind: 'float64' };
  if (KindGuard.IsInteger(schema)) return { kind: schema.minimum !== undefined && schema.minimum >= 0 ? 'uint64' : 'int64' };
  if (KindGuard.IsBigInt(schema)) {
    if (schema.minimum === undefined || schema.minimum < 0n) throw new FixedShapeSchemaError(`${path.slice(0, -1)}: only non-negative bigints (uint64) have a fixed shape`);
    return { kind: 'bigint' };
  }
  if (KindGuard.IsBoolean(schema)) return { kind: 'bool' };
  if (KindGuard.IsString(schema) || KindGuard.IsLiteralString(schema)) return { kind: 'string' };
  if (KindGuard.IsUnion(schema) && schema.anyOf.every((s) => KindGuard.IsLiteralString(s))) return { kind: 'string' };
  throw new FixedShapeSchemaError(`${path.slice(0, -1) || '(root)'}: expected an object of numbers, integers, bigints, booleans or strings, got ${String(schema[Kind])}`);
}

/** The fields of a shape in wire order: numbers and booleans (fixed width) and strings. */
function leaves(node: Node, path: string[] = []): { kind: Fixed | 'string'; path: string[] }[] {
  if (node.kind !== 'object') return [{ kind: node.kind, path }];
  return node.keys.flatMap((k, i) => leaves(node.fields[i]!, [...path, k]));
}

/** One layout of a message: its bytes, where each number sits in them, the strings it holds. */
export interface FixedLayout {
  readonly bytes: Uint8Array;
  readonly at: Int32Array;
  readonly strings: readonly string[];
}

type Patch = (v: unknown, dv: DataView, o: number, at: Int32Array) => void;
type SameStrings = (v: unknown, s: readonly string[]) => boolean;

/** Lays out and patches messages of one type (see the module comment). */
export class FixedShapeEncoder<S extends TSchema> {
  readonly type: MessageType<S>;
  readonly #root: Node;
  readonly #patch: Patch;
  readonly #sameStrings: SameStrings;
  #own: FixedLayout | undefined;
  #ownView: DataView | undefined;

  constructor(type: MessageType<S>) {
    this.type = type;
    this.#root = shape(type.schema, '');
    if (this.#root.kind !== 'object') throw new FixedShapeSchemaError(`(root): expected an object, got ${this.#root.kind}`);
    // Straight-line code per type, like TypeBox's compiled checks: a loop over field paths
    // made every property read megamorphic, and this runs for every record of every tick.
    const ref = (path: string[]) => `v${path.map((k) => `[${JSON.stringify(k)}]`).join('')}`;
    const patch: string[] = [];
    const same: string[] = [];
    let slot = 0;
    let str = 0;
    for (const leaf of leaves(this.#root)) {
      if (leaf.kind === 'string') {
        same.push(`${ref(leaf.path)} === s[${str++}]`);
        continue;
      }
      const at = `o + at[${slot++}]`;
      const v = ref(leaf.path);
      if (leaf.kind === 'float64') patch.push(`dv.setFloat64(${at}, ${v});`);
      else if (leaf.kind === 'bigint') patch.push(`dv.setBigUint64(${at}, ${v});`);
      else if (leaf.kind === 'bool') patch.push(`dv.setUint8(${at}, ${v} ? 0xc3 : 0xc2);`);
      // A safe integer splits exactly into two 32-bit words (two's complement when negative).
      else patch.push(`{ const n = ${v}; const hi = Math.floor(n / 4294967296); dv.setInt32(${at}, hi); dv.setUint32(${at} + 4, n - hi * 4294967296); }`);
    }
    this.#patch = new Function('v', 'dv', 'o', 'at', patch.join('\n')) as Patch;
    this.#sameStrings = new Function('v', 's', `return ${same.join(' && ') || 'true'};`) as SameStrings;
  }

  /** The value, checked against its type as it is (throws InvalidMessageError naming the field). */
  validated(value: Static<S>): Static<S> {
    // Strict: no coercion (an integer field given 1.5 is refused, not truncated) — these are
    // our own records. The compiled check allocates nothing; only a refusal pays for the words.
    if (!this.type.check.Check(value)) throw new InvalidMessageError(this.type.name, explain(this.type.check, value));
    const why = this.type.refine?.(value);
    if (why) throw new InvalidMessageError(this.type.name, why);
    return value;
  }

  /** Whether a validated value's strings are those of `layout`, so `patch` can write it there. */
  fits(value: Static<S>, layout: FixedLayout): boolean {
    return this.#sameStrings(value, layout.strings);
  }

  /** Writes a validated value's numbers into a copy of `layout` that starts at `offset` of `view`. */
  patch(value: Static<S>, layout: FixedLayout, view: DataView, offset: number): void {
    this.#patch(value, view, offset, layout.at);
  }

  /** Lays out a validated value: its strings fixed, its numbers written. */
  layout(value: Static<S>): FixedLayout {
    const out: number[] = [];
    const at: number[] = [];
    const strings: string[] = [];
    // Strings (keys too) as the codec writes them: the wire format has one writer.
    const str = (s: string) => {
      for (const x of encode(s)) out.push(x);
    };
    const walk = (node: Node, v: unknown) => {
      if (node.kind === 'object') {
        const n = node.keys.length;
        if (n < 16) out.push(0x80 | n);
        else out.push(0xde, n >> 8, n & 0xff);
        node.keys.forEach((k, i) => {
          str(k);
          walk(node.fields[i]!, (v as Record<string, unknown>)[k]);
        });
      } else if (node.kind === 'string') {
        strings.push(v as string);
        str(v as string);
      } else if (node.kind === 'bool') {
        at.push(out.length);
        out.push(0xc2);
      } else {
        out.push({ float64: 0xcb, int64: 0xd3, uint64: 0xcf, bigint: 0xcf }[node.kind]);
        at.push(out.length);
        for (let i = 0; i < 8; i++) out.push(0);
      }
    };
    walk(this.#root, value);
    const layout = { bytes: Uint8Array.from(out), at: Int32Array.from(at), strings };
    this.#patch(value, new DataView(layout.bytes.buffer), 0, layout.at);
    return layout;
  }

  /**
   * Validates and encodes one message on its own. The returned bytes are this encoder's and
   * valid until its next call: publish or copy them first.
   */
  encode(value: Static<S>): EncodedMessage {
    const ok = this.validated(value);
    if (this.#own && this.#ownView && this.fits(ok, this.#own)) this.patch(ok, this.#own, this.#ownView, 0);
    else {
      this.#own = this.layout(ok);
      this.#ownView = new DataView(this.#own.bytes.buffer);
    }
    return { bytes: this.#own.bytes } as EncodedMessage;
  }
}
