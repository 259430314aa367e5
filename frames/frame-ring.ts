/**
 * A camera's ring of frame slots in shared memory (a SharedArrayBuffer any worker thread of
 * the node can attach). Only slot descriptors travel; pixels stay here. Slot states follow
 * the slot machine (`slot-machine.ts`), applied with compare-and-swap so writers and readers
 * on different threads never see a half-made transition. A full ring drops its oldest READY
 * frame (counted); an illegal transition is refused (counted).
 */
import { compileSlotTable, ruleKey, SLOT_STATES, type SlotEvent, type SlotState } from './slot-machine.js';

export interface FrameRingSpec {
  slots: number;
  width: number;
  height: number;
  /** 1 for 8-bit gray, 2 for up to 16-bit (little-endian). */
  bytesPerPixel: 1 | 2;
}

/** What a ring holds about a committed frame. */
export interface FrameMeta {
  seq: number;
  t_ns: bigint;
  exposure_us: number;
}

/** What crosses to another thread to attach the same ring. */
export interface SharedRing {
  buffer: SharedArrayBuffer;
  spec: FrameRingSpec;
}

const TABLE = compileSlotTable();
const STATE_INDEX = new Map(SLOT_STATES.map((s, i) => [s, i]));
const COUNTERS = 4; // dropped, refused, full, stale
const [DROPPED, REFUSED, FULL, STALE] = [0, 1, 2, 3];

const pack = (state: SlotState, readers: number) => STATE_INDEX.get(state)! | (readers << 4);
const unpackState = (word: number) => SLOT_STATES[word & 0xf]!;
const unpackReaders = (word: number) => word >>> 4;
const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Error for a ring spec that cannot be built. */
export class FrameRingError extends RangeError {
  override name = 'FrameRingError';
}

function checkSpec(s: FrameRingSpec): void {
  const int = (v: number, min: number, max: number, what: string) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new FrameRingError(`Expected an integer in [${min}, ${max}] for ${what} but received ${v}`);
  };
  int(s.slots, 2, 1024, 'slots');
  int(s.width, 1, 65536, 'width');
  int(s.height, 1, 65536, 'height');
  if (s.bytesPerPixel !== 1 && s.bytesPerPixel !== 2) throw new FrameRingError(`Expected 1 or 2 for bytesPerPixel but received ${String(s.bytesPerPixel)}`);
}

/** One camera's frame slots. */
export class FrameRing {
  readonly spec: FrameRingSpec;
  readonly slotBytes: number;
  readonly #buffer: SharedArrayBuffer;
  readonly #ctl: Int32Array;
  readonly #meta: Float64Array; // per slot: seq, commit order, exposure_us
  readonly #time: BigInt64Array;
  readonly #pixelsAt: number;
  #order = 0;

  private constructor(shared: SharedRing) {
    checkSpec(shared.spec);
    this.spec = shared.spec;
    const n = shared.spec.slots;
    this.slotBytes = shared.spec.width * shared.spec.height * shared.spec.bytesPerPixel;
    this.#buffer = shared.buffer;
    const ctlBytes = align8((n + COUNTERS) * 4);
    const metaBytes = n * 3 * 8;
    const timeBytes = n * 8;
    this.#ctl = new Int32Array(this.#buffer, 0, n + COUNTERS);
    this.#meta = new Float64Array(this.#buffer, ctlBytes, n * 3);
    this.#time = new BigInt64Array(this.#buffer, ctlBytes + metaBytes, n);
    this.#pixelsAt = ctlBytes + metaBytes + timeBytes;
    const need = this.#pixelsAt + n * this.slotBytes;
    if (this.#buffer.byteLength < need) throw new FrameRingError(`Expected a shared buffer of at least ${need} bytes but received ${this.#buffer.byteLength}`);
    for (let i = 0; i < n; i++) this.#order = Math.max(this.#order, this.#meta[i * 3 + 1]!);
  }

  /** Allocates a ring (all slots FREE). */
  static create(spec: FrameRingSpec): FrameRing {
    checkSpec(spec);
    const n = spec.slots;
    const bytes = align8((n + COUNTERS) * 4) + n * 3 * 8 + n * 8 + n * spec.width * spec.height * spec.bytesPerPixel;
    return new FrameRing({ buffer: new SharedArrayBuffer(bytes), spec });
  }

  /** Attaches to a ring created elsewhere (another thread). */
  static attach(shared: SharedRing): FrameRing {
    return new FrameRing(shared);
  }

  get shared(): SharedRing {
    return { buffer: this.#buffer, spec: this.spec };
  }

  /** State and reader count of a slot. */
  slot(i: number): { state: SlotState; readers: number } {
    const w = Atomics.load(this.#ctl, this.#index(i));
    return { state: unpackState(w), readers: unpackReaders(w) };
  }

  /** Applies `event` to slot `i` if the slot machine allows it; refusals are counted. */
  apply(i: number, event: SlotEvent): boolean {
    if (this.#try(i, event)) return true;
    Atomics.add(this.#ctl, this.spec.slots + REFUSED, 1);
    return false;
  }

  /**
   * Claims a slot to write into: a FREE one, else the oldest READY one (its frame is dropped
   * and counted). Undefined when every slot is being written or read (counted as full).
   */
  beginWrite(): number | undefined {
    const n = this.spec.slots;
    for (let i = 0; i < n; i++) if (this.#try(i, 'BEGIN_WRITE')) return i;
    for (;;) {
      let oldest = -1;
      for (let i = 0; i < n; i++) {
        if (this.slot(i).state === 'READY' && (oldest < 0 || this.#meta[i * 3 + 1]! < this.#meta[oldest * 3 + 1]!)) oldest = i;
      }
      if (oldest < 0) {
        Atomics.add(this.#ctl, n + FULL, 1);
        return undefined;
      }
      if (this.#try(oldest, 'EVICT')) {
        Atomics.add(this.#ctl, n + DROPPED, 1);
        if (this.#try(oldest, 'BEGIN_WRITE')) return oldest;
      }
    }
  }

  /** The pixels of slot `i` (a view into shared memory; write only while WRITING). */
  pixels(i: number): Uint8Array {
    this.#index(i);
    return new Uint8Array(this.#buffer, this.#pixelsAt + i * this.slotBytes, this.slotBytes);
  }

  /** Publishes a written slot as READY with its metadata. */
  commit(i: number, meta: FrameMeta): boolean {
    if (this.slot(i).state !== 'WRITING') return this.apply(i, 'COMMIT');
    this.#meta[i * 3] = meta.seq;
    this.#meta[i * 3 + 1] = ++this.#order;
    this.#meta[i * 3 + 2] = meta.exposure_us;
    this.#time[i] = meta.t_ns;
    return this.apply(i, 'COMMIT');
  }

  /** Gives up a write. */
  abort(i: number): boolean {
    return this.apply(i, 'ABORT');
  }

  /**
   * Starts reading slot `i`, expecting frame `seq`. False when the slot no longer holds that
   * frame (it was dropped and reused) or is not READY/READING.
   */
  acquire(i: number, seq: number): boolean {
    if (!this.apply(i, 'ACQUIRE')) return false;
    if (this.#meta[i * 3] !== seq) {
      this.apply(i, 'RELEASE');
      Atomics.add(this.#ctl, this.spec.slots + STALE, 1);
      return false;
    }
    return true;
  }

  /** Ends one reader's hold; the last reader frees the slot. */
  release(i: number): boolean {
    return this.apply(i, 'RELEASE');
  }

  /** Metadata of the frame in slot `i`. */
  meta(i: number): FrameMeta {
    this.#index(i);
    return { seq: this.#meta[i * 3]!, t_ns: this.#time[i]!, exposure_us: this.#meta[i * 3 + 2]! };
  }

  /** Counters: frames dropped by a full ring, refused transitions, writes refused (all busy), stale reads. */
  stats(): { dropped: number; refused: number; full: number; stale: number } {
    const n = this.spec.slots;
    return {
      dropped: Atomics.load(this.#ctl, n + DROPPED),
      refused: Atomics.load(this.#ctl, n + REFUSED),
      full: Atomics.load(this.#ctl, n + FULL),
      stale: Atomics.load(this.#ctl, n + STALE),
    };
  }

  #index(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.spec.slots) throw new FrameRingError(`Expected a slot index in [0, ${this.spec.slots - 1}] but received ${i}`);
    return i;
  }

  #try(i: number, event: SlotEvent): boolean {
    const at = this.#index(i);
    for (;;) {
      const word = Atomics.load(this.#ctl, at);
      const readers = unpackReaders(word);
      const rule = TABLE.get(ruleKey(unpackState(word), event, readers === 1));
      if (!rule) return false;
      const next = pack(rule.next, readers + rule.readersDelta);
      if (Atomics.compareExchange(this.#ctl, at, word, next) === word) return true;
    }
  }
}
