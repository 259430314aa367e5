/**
 * The replayer actor: re-publishes a recorded stream (`detections.jsonl`, `fused.jsonl` or
 * `meas.jsonl` from `skyvox up --record DIR --record-detections`) on its live subjects, with
 * the recorded times and spacing (divided by `speed`), so the rest of the pipeline runs on a
 * past incident exactly as it ran live. Each line is validated like any message; a bad line
 * is counted and dead-lettered with its line number, and the replay goes on.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { encode } from '../../bus/codec.js';
import { DetectionFrame } from '../../schemas/detections.js';
import { FusedFrame } from '../../schemas/fused.js';
import { Measurements } from '../../schemas/measurement.js';
import { type MessageType, validate } from '../../schemas/message.js';
import type { ActorBehavior } from '../../supervisors/actor.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import type { Subjects } from '../../bus/subjects.js';

/** What can be replayed: the message type, its file in a recording, and where each message goes. */
export const REPLAYABLE = {
  det: { type: DetectionFrame as MessageType, file: 'detections.jsonl', subject: (s: Subjects, m: Record<string, unknown>) => s.det(String(m.cam)) },
  fused: { type: FusedFrame as MessageType, file: 'fused.jsonl', subject: (s: Subjects, m: Record<string, unknown>) => s.fused(String(m.pair)) },
  meas: { type: Measurements as MessageType, file: 'meas.jsonl', subject: (s: Subjects) => s.meas },
} as const;
export type ReplaySource = keyof typeof REPLAYABLE;

/** A recorded JSON line back to a message: exact 64-bit times, bin fields from base64. */
export function parseRecordedLine(line: string, binFields: readonly string[]): Record<string, unknown> {
  const quoted = line.replace(/"(t_ns|published_ns|t_cam_ns)":(-?\d+)/g, '"$1":"$2"');
  return JSON.parse(quoted, (k, v: unknown) => {
    if ((k === 't_ns' || k === 'published_ns' || k === 't_cam_ns') && typeof v === 'string') return BigInt(v);
    if (binFields.includes(k) && typeof v === 'string') return new Uint8Array(Buffer.from(v, 'base64'));
    return v;
  }) as Record<string, unknown>;
}

/** Factory for the `replayer` actor kind: options `{file, source: det|fused|meas, speed?}`. */
export function replayerActor(f: ActorFactoryContext): ActorBehavior<never> {
  const { file, source, speed = 1 } = f.options as { file?: unknown; source?: unknown; speed?: unknown };
  if (typeof file !== 'string') throw new TypeError(`options.file: expected a recorded JSON-lines file, got ${JSON.stringify(file)}`);
  if (typeof source !== 'string' || !(source in REPLAYABLE)) throw new TypeError(`options.source: expected one of ${Object.keys(REPLAYABLE).join(', ')}, got ${JSON.stringify(source)}`);
  if (typeof speed !== 'number' || !(speed > 0)) throw new TypeError(`options.speed: expected a number > 0, got ${JSON.stringify(speed)}`);
  const spec = REPLAYABLE[source as ReplaySource];
  const binFields = ['blobs', 'points'];
  return {
    start(ctx) {
      const bus = ctx.bus!;
      void (async () => {
        const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
        let first: bigint | undefined;
        const began = performance.now();
        let n = 0;
        for await (const line of lines) {
          n++;
          if (ctx.signal.aborted) break;
          if (!line.trim()) continue;
          let msg: Record<string, unknown>;
          try {
            msg = validate(spec.type, parseRecordedLine(line, binFields)) as Record<string, unknown>;
          } catch (err) {
            // Counted (invalid) by the bus with the dead letter.
            bus.deadLetter(`${file}:${n}`, (err as Error).message, new TextEncoder().encode(line));
            continue;
          }
          const t = msg.t_ns as bigint;
          first ??= t;
          const due = Number(t - first) / 1e6 / speed - (performance.now() - began);
          if (due > 1) await new Promise((r) => setTimeout(r, due));
          bus.nc.publish(spec.subject(bus.subjects, msg), encode(msg));
          ctx.stats.msgsOut++;
        }
        ctx.log.info({ file, messages: ctx.stats.msgsOut, invalid: ctx.stats.invalid }, 'replay finished');
        ctx.exit();
      })().catch((err: Error) => ctx.fail(err));
    },
  };
}
