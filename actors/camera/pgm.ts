/** Binary PGM (P5), 8- or 16-bit: the simplest lossless grey image format, for `frames` sources. */

/** Error for a file that is not a binary PGM. */
export class PgmError extends Error {
  override name = 'PgmError';
}

export interface Pgm {
  width: number;
  height: number;
  maxval: number;
  /** 1 or 2 bytes per pixel; 16-bit samples converted to little-endian. */
  bytesPerPixel: 1 | 2;
  pixels: Uint8Array;
}

/** Parses a P5 PGM; `source` names the file in errors. */
export function parsePgm(data: Uint8Array, source: string): Pgm {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < data.length && /\s/.test(String.fromCharCode(data[pos]!))) pos++;
      if (data[pos] === 0x23) while (pos < data.length && data[pos] !== 0x0a) pos++;
      else break;
    }
    const start = pos;
    while (pos < data.length && !/\s/.test(String.fromCharCode(data[pos]!))) pos++;
    return new TextDecoder().decode(data.subarray(start, pos));
  };
  const magic = token();
  if (magic !== 'P5') throw new PgmError(`${source}: expected a binary PGM (P5), got ${JSON.stringify(magic.slice(0, 8))}`);
  const [width, height, maxval] = [Number(token()), Number(token()), Number(token())];
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) throw new PgmError(`${source}: expected positive width and height, got ${width}×${height}`);
  if (!(Number.isInteger(maxval) && maxval > 0 && maxval < 65536)) throw new PgmError(`${source}: expected maxval in [1, 65535], got ${maxval}`);
  pos++; // the single whitespace after maxval
  const bpp = maxval > 255 ? 2 : 1;
  const size = width * height * bpp;
  if (data.length - pos < size) throw new PgmError(`${source}: expected ${size} bytes of pixels, got ${data.length - pos}`);
  const pixels = data.slice(pos, pos + size);
  if (bpp === 2) for (let i = 0; i < size; i += 2) [pixels[i], pixels[i + 1]] = [pixels[i + 1]!, pixels[i]!]; // PGM is big-endian
  return { width, height, maxval, bytesPerPixel: bpp, pixels };
}

/** Encodes an 8-bit PGM. */
export function encodePgm(width: number, height: number, pixels: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + pixels.length);
  out.set(header);
  out.set(pixels, header.length);
  return out;
}
