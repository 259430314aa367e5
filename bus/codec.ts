/**
 * The wire format: standard MessagePack only (maps with string keys, numbers, strings,
 * arrays, bin). No msgpackr records or extensions, so stock decoders in any language work.
 */
import { type Options, Packr } from 'msgpackr';

const packr = new Packr({
  useRecords: false,
  variableMapSize: true,
  mapsAsObjects: true,
  // 64-bit integers beyond 2^53 (t_ns) stay exact as bigint; smaller ones are plain numbers.
  int64AsType: 'auto',
  // Absent optional fields are left out of the map rather than written as an extension.
  skipValues: [undefined],
  moreTypes: false,
} as unknown as Options); // skipValues and int64AsType 'auto' work at run time but are missing from the typings

/** Error for bytes that are not a standard MessagePack value. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** Encodes a value as standard MessagePack. */
export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes standard MessagePack; throws DecodeError on malformed input or trailing bytes. */
export function decode(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    const values = packr.unpackMultiple(bytes) as unknown[];
    if (values.length !== 1) throw new Error(`expected one MessagePack value, found ${values.length}`);
    value = values[0];
    assertStandard(value, 0);
  } catch (err) {
    throw new DecodeError(`undecodable MessagePack: ${(err as Error).message}`, { cause: err });
  }
  return value;
}

/** Dtypes of bulk numeric arrays carried as `bin` (always little-endian). */
export const DTYPES = { f32: 4, f64: 8, u16: 2, u32: 4, i32: 4 } as const;
export type Dtype = keyof typeof DTYPES;

/** Packs a float32 array into little-endian bytes for a `bin` field. */
export function f32ToBin(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return out;
}

/** Packs a float64 array into little-endian bytes for a `bin` field. */
export function f64ToBin(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i] as number, true);
  return out;
}

/** Reads a little-endian float32 `bin` field; throws when its length is not a multiple of 4. */
export function binToF32(bin: Uint8Array): Float32Array {
  if (bin.byteLength % 4 !== 0) throw new RangeError(`Expected a multiple of 4 bytes for f32 data but received ${bin.byteLength}`);
  const out = new Float32Array(bin.byteLength / 4);
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Reads a little-endian float64 `bin` field; throws when its length is not a multiple of 8. */
export function binToF64(bin: Uint8Array): Float64Array {
  if (bin.byteLength % 8 !== 0) throw new RangeError(`Expected a multiple of 8 bytes for f64 data but received ${bin.byteLength}`);
  const out = new Float64Array(bin.byteLength / 8);
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

// msgpackr also understands extensions (timestamps, records, 0xC1 markers); the wire allows none.
function assertStandard(value: unknown, depth: number): void {
  if (depth > 64) throw new Error('nesting deeper than 64 levels');
  if (value === null || typeof value !== 'object') {
    if (value === undefined) throw new Error('an undefined value (not standard MessagePack)');
    return;
  }
  if (value instanceof Uint8Array) return;
  if (Array.isArray(value)) {
    for (const v of value) assertStandard(v, depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new Error(`a ${(value as object).constructor?.name ?? 'non-plain'} value, which only a MessagePack extension produces`);
  }
  for (const v of Object.values(value)) assertStandard(v, depth + 1);
}

