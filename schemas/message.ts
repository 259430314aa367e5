/**
 * One message type = one TypeBox schema: TypeScript type, compiled runtime validator and
 * a JSON Schema export for clients in other languages.
 */
import { KindGuard, type Static, type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';

/** A named message schema with its compiled validator. */
export interface MessageType<S extends TSchema = TSchema> {
  readonly name: string;
  readonly schema: S;
  readonly check: TypeCheck<S>;
  /** Checks a schema cannot state (array lengths that depend on a count…); returns a reason. */
  refine?(value: Static<S>): string | undefined;
}

export type MessageOf<M extends MessageType> = Static<M['schema']>;

/** Declares a message type; compiles its validator once. */
export function defineMessage<S extends TSchema>(name: string, schema: S, refine?: (value: Static<S>) => string | undefined): MessageType<S> {
  return { name, schema, check: TypeCompiler.Compile(schema), refine };
}

/** Error for a value that does not match its message schema; `reason` names the field. */
export class InvalidMessageError extends Error {
  override name = 'InvalidMessageError';
  constructor(
    readonly messageType: string,
    readonly reason: string,
  ) {
    super(`invalid ${messageType}: ${reason}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}` : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** `/cameras/3/fov_deg` → `cameras[3].fov_deg`. */
export function formatPath(pointer: string): string {
  if (!pointer) return '(root)';
  return pointer
    .slice(1)
    .split('/')
    .map((seg) => seg.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

/**
 * One sentence for the first thing wrong with `value`: the path, what was expected (the
 * schema's `expected` phrase when it has one) and what was got.
 */
export function explain(check: TypeCheck<TSchema>, value: unknown): string {
  const first = check.Errors(value).First();
  if (!first) return 'does not match';
  if (first.type === ValueErrorType.ObjectAdditionalProperties) {
    const allowed = Object.keys((first.schema as { properties?: object }).properties ?? {});
    return `${formatPath(first.path)}: unexpected field; expected one of ${allowed.join(', ')}`;
  }
  const phrase = (first.schema as { expected?: string }).expected;
  const fallback = (first.message.charAt(0).toLowerCase() + first.message.slice(1)).replace(/^expected /, '');
  return `${formatPath(first.path)}: expected ${phrase ?? fallback}, got ${describe(first.value)}`;
}

/** `value` with safe-integer numbers as bigints where `schema` has a bigint field; the same object when nothing changes. */
function bigintsFromIntegers(schema: TSchema, value: unknown): unknown {
  if (KindGuard.IsBigInt(schema)) return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
  if (KindGuard.IsObject(schema)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) return value;
    let out: Record<string, unknown> | undefined;
    for (const [k, field] of Object.entries(schema.properties)) {
      const v = (value as Record<string, unknown>)[k];
      const c = v === undefined ? v : bigintsFromIntegers(field, v);
      if (c !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = c;
    }
    return out ?? value;
  }
  if (KindGuard.IsArray(schema) || KindGuard.IsTuple(schema)) {
    if (!Array.isArray(value)) return value;
    const itemSchema = (i: number) => (KindGuard.IsArray(schema) ? schema.items : schema.items?.[i]);
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const s = itemSchema(i);
      const c = s ? bigintsFromIntegers(s, v) : v;
      if (c !== v) (out ??= [...value])[i] = c;
    });
    return out ?? value;
  }
  if (KindGuard.IsUnion(schema)) {
    for (const member of schema.anyOf) {
      const c = bigintsFromIntegers(member, value);
      if (c !== value) return c;
    }
  }
  return value;
}

/**
 * Validates `value`; returns the typed value or throws InvalidMessageError naming the first
 * bad field. Integers that other clients send as plain numbers are accepted for 64-bit fields.
 */
export function validate<S extends TSchema>(type: MessageType<S>, value: unknown): Static<S> {
  let ok: Static<S>;
  if (type.check.Check(value)) ok = value;
  else {
    // Another language's client may send a small uint64 as a plain int: that, and only that, is
    // converted (a general conversion would also take "12" for 12 and truncate 1.5 to 1).
    const converted = bigintsFromIntegers(type.schema, value);
    if (converted === value || !type.check.Check(converted)) throw new InvalidMessageError(type.name, explain(type.check, converted));
    ok = converted as Static<S>;
  }
  const why = type.refine?.(ok);
  if (why) throw new InvalidMessageError(type.name, why);
  return ok;
}

/** Integer nanoseconds since the Unix epoch, carried as a MessagePack uint64. */
export const TimeNs = () => Type.BigInt({ minimum: 0n, description: 'integer nanoseconds since the Unix epoch (uint64)' });

/** Three numbers (a position or a velocity), described by `description` (units, frame). */
export const Vec3 = (description: string) => Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { description });

/** Bulk numeric array carried as MessagePack `bin`, little-endian, layout in `description`. */
export const Bin = (description: string) => Type.Uint8Array({ description });

/** JSON Schema for other languages: bigint and bin fields are rewritten to their MessagePack types. */
export function toJsonSchema(type: MessageType): Record<string, unknown> {
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== 'object') return typeof node === 'bigint' ? Number(node) : node;
    const obj = node as Record<string | symbol, unknown>;
    if (obj.type === 'bigint') {
      return { type: 'integer', minimum: 0, description: obj.description, 'x-msgpack': 'uint64' };
    }
    if (obj.type === 'Uint8Array') {
      return { type: 'string', contentEncoding: 'binary', description: obj.description, 'x-msgpack': 'bin' };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = rewrite(v);
    return out;
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: type.name,
    ...(rewrite(type.schema) as Record<string, unknown>),
  };
}

/** A string that must be one of `values`, typed as their union. */
export const oneOf = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { expected: `one of ${values.join(', ')}`, ...(description ? { description } : {}) },
  ) as unknown as TUnion<TLiteral<T[number]>[]>;
