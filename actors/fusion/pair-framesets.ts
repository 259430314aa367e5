/**
 * How a pair's mono and thermal views are grouped into instants, for the live fusion actor and
 * for batch work alike: framesets with the mono view as primary, so a mono frame waits for its
 * thermal twin but never the other way round — an 8K mono frame's motion pass finishes long
 * after its thermal twin's, and thermal views must wait for it, not leave without it.
 */
import { FramesetAssembler } from '../../frames/frameset.js';

/** Fusion's grouping settings (options of the `fusion` stage). */
export interface PairFramesetSettings {
  /** Views within this much of each other are one instant (ms). */
  tolerance_ms: number;
  /** How long a mono view waits for its thermal twin (ms). */
  max_wait_ms: number;
  /** How long a thermal view waits for its mono twin (ms): longer than the mono path's lag. */
  hold_ms: number;
}

export const DEFAULT_PAIR_FRAMESETS: PairFramesetSettings = { tolerance_ms: 10, max_wait_ms: 60, hold_ms: 1000 };

/** The grouping settings in `options` (fusion stage options), checked; defaults for those absent. */
export function pairFramesetSettings(options: Record<string, unknown>): PairFramesetSettings {
  const out = { ...DEFAULT_PAIR_FRAMESETS };
  for (const k of Object.keys(DEFAULT_PAIR_FRAMESETS) as (keyof PairFramesetSettings)[]) {
    const v = options[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`fusion.${k}: expected a number of milliseconds >= 0, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

/** The assembler of one pair's instants. */
export function pairFramesets<T>(mono: string, thermal: string, s: PairFramesetSettings): FramesetAssembler<T> {
  return new FramesetAssembler<T>({ cameras: [mono, thermal], primary: mono, toleranceNs: BigInt(Math.round(s.tolerance_ms * 1e6)), maxWaitMs: s.max_wait_ms, holdMs: s.hold_ms });
}
