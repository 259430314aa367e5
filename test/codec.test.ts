import assert from 'node:assert/strict';
import { decode as independentDecode } from '@msgpack/msgpack';
import { binToF32, binToF64, decode, DecodeError, encode, f32ToBin, f64ToBin } from '../bus/codec.js';

describe('codec: standard MessagePack', () => {
  it('encodes maps, numbers, strings, arrays and bin that an independent decoder reads unchanged', () => {
    const value = { name: 'cam-1', n: 3, x: -1.25, list: [1, 'two', null, true], nested: { a: { b: [0.5] } }, bin: new Uint8Array([1, 2, 3]) };
    const bytes = encode(value);
    const other = independentDecode(bytes) as Record<string, unknown>;
    assert.deepEqual({ ...other, bin: Array.from(other.bin as Uint8Array) }, { ...value, bin: [1, 2, 3] });
  });

  it('uses no extension types: no ext or fixext byte appears for typical messages', () => {
    const bytes = encode({ t_ns: 1_795_000_000_123_456_789n, f: new Float32Array([1, 2]), s: 'x', u: undefined });
    // fixext 1..16 = 0xd4..0xd8, ext 8/16/32 = 0xc7..0xc9. Decode independently and walk it.
    const decoded = independentDecode(bytes, { useBigInt64: true }) as Record<string, unknown>;
    assert.equal(decoded.t_ns, 1_795_000_000_123_456_789n);
    assert.ok(decoded.f instanceof Uint8Array, 'typed arrays travel as bin');
    assert.ok(!('u' in decoded), 'undefined fields are left out, not encoded as an extension');
  });

  it('keeps 64-bit nanosecond times exact, and small 64-bit integers as plain numbers', () => {
    const t = 18_446_744_073_709_551_615n;
    assert.equal((decode(encode({ t })) as { t: bigint }).t, t);
    assert.equal((decode(encode({ t: 1_795_000_000_000_000_001n })) as { t: bigint }).t, 1_795_000_000_000_000_001n);
    // another client's uint64 counter (0xcf) within 2^53 reads as a number
    assert.equal(decode(Uint8Array.of(0xcf, 0, 0, 0, 0, 0, 0, 0, 42)), 42);
  });

  it('round-trips little-endian f32 and f64 bulk arrays', () => {
    const f32 = [0, 1.5, -2.25, Math.fround(3.4e38)];
    assert.deepEqual(Array.from(binToF32(decode(encode(f32ToBin(f32))) as Uint8Array)), f32);
    const f64 = [Math.PI, -Number.MAX_VALUE, 5e-324];
    assert.deepEqual(Array.from(binToF64(f64ToBin(f64))), f64);
    // little-endian on the wire, whatever the host
    assert.deepEqual(Array.from(f32ToBin([1])), [0x00, 0x00, 0x80, 0x3f]);
    assert.throws(() => binToF32(new Uint8Array(5)), /multiple of 4 bytes for f32 data but received 5/);
  });

  it('refuses malformed bytes and trailing garbage with DecodeError', () => {
    assert.throws(() => decode(new Uint8Array([0xc1])), DecodeError);
    assert.throws(() => decode(new Uint8Array([0xd6, 0xff, 0, 0, 0, 1])), /Date value, which only a MessagePack extension produces/);
    assert.throws(() => decode(new Uint8Array([0x92, 0x01])), DecodeError);
    assert.throws(() => decode(Uint8Array.from([...encode(1), ...encode(2)])), /expected one MessagePack value, found 2/);
  });
});
