/**
 * The replayer actor: re-publishes a recorded stream (`detections.jsonl`, `fused.jsonl` or
 * `meas.jsonl` from `skyvox up --record DIR --record-detections`) on its live subjects, with
 * the recorded times and spacing (divided by `speed`), so the rest of the pipeline runs on a
 * past incident exactly as it ran live. Each line is validated like any message; a bad line
 * is counted and dead-lettered with its line number, and the replay goes on. It also replays
 * a site's detection archive (bus/detection-archive.ts) from a given time.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { decode, encode } from '../../bus/codec.js';
import { connectBus } from '../../bus/connection.js';
import { storedMessages } from '../../bus/jetstream.js';
import { detectionStreamName, detectionSubjects } from '../../bus/detection-archive.js';
import { subjectsFor } from '../../bus/subjects.js';
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

/** One recorded message: where it came from (for dead letters), its bytes, and its value. */
interface Item {
  where: string;
  raw: Uint8Array;
  value: () => unknown;
}

/** Lines of a recorded JSON-lines file. */
async function* fileItems(file: string, binFields: readonly string[]): AsyncIterable<Item> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (!line.trim()) continue;
    yield { where: `${file}:${n}`, raw: new TextEncoder().encode(line), value: () => parseRecordedLine(line, binFields) };
  }
}

/** Where to read a site's detection archive from, and which span. */
export interface StreamSource {
  servers: string[];
  user: string;
  pass: string;
  prefix: string;
  /** Start time (ms since the epoch), or 'start' for all the stream holds. */
  since_ms: number | 'start';
  until_ms?: number;
}

/** The detections a site's archive held when the replay began, from `since_ms` on. */
async function* streamItems(src: StreamSource, signal: AbortSignal): AsyncIterable<Item> {
  const nc = await connectBus({ servers: src.servers, user: src.user, pass: src.pass, name: 'skyvox-replay-source' });
  try {
    const s = subjectsFor(src.prefix);
    const stream = detectionStreamName(s);
    const since = src.since_ms === 'start' ? undefined : new Date(src.since_ms);
    for await (const m of storedMessages(nc, stream, detectionSubjects(s), since, signal)) yield { where: `${stream}:${m.seq}`, raw: m.data, value: () => decode(m.data) };
  } finally {
    await nc.close();
  }
}

/**
 * Factory for the `replayer` actor kind: options `{source: det|fused|meas, speed?}` and either
 * `file` (a recording's JSON lines) or `stream` (StreamSource: a site's detection archive; det only).
 */
export function replayerActor(f: ActorFactoryContext): ActorBehavior<never> {
  const { file, stream, source, speed = 1 } = f.options as { file?: unknown; stream?: StreamSource; source?: unknown; speed?: unknown };
  if (typeof source !== 'string' || !(source in REPLAYABLE)) throw new TypeError(`options.source: expected one of ${Object.keys(REPLAYABLE).join(', ')}, got ${JSON.stringify(source)}`);
  if (stream === undefined && typeof file !== 'string') throw new TypeError(`options.file: expected a recorded JSON-lines file (or options.stream), got ${JSON.stringify(file)}`);
  if (stream !== undefined && (source !== 'det' || !Array.isArray(stream.servers))) throw new TypeError('options.stream: expected {servers, user, pass, prefix, since_ms, until_ms?} with source det (the archive holds detections)');
  if (typeof speed !== 'number' || !(speed > 0)) throw new TypeError(`options.speed: expected a number > 0, got ${JSON.stringify(speed)}`);
  const spec = REPLAYABLE[source as ReplaySource];
  const binFields = ['blobs', 'points', 'rays'];
  const untilNs = stream?.until_ms !== undefined ? BigInt(Math.round(stream.until_ms)) * 1_000_000n : undefined;
  return {
    start(ctx) {
      const bus = ctx.bus!;
      void (async () => {
        const items = stream ? streamItems(stream, ctx.signal) : fileItems(file as string, binFields);
        let first: bigint | undefined;
        const began = performance.now();
        for await (const item of items) {
          if (ctx.signal.aborted) break;
          let msg: Record<string, unknown>;
          try {
            msg = validate(spec.type, item.value()) as Record<string, unknown>;
          } catch (err) {
            // Counted (invalid) by the bus with the dead letter.
            bus.deadLetter(item.where, (err as Error).message, item.raw);
            continue;
          }
          const t = msg.t_ns as bigint;
          if (untilNs !== undefined && t > untilNs) {
            // The stream is in arrival order: well past the end, nothing earlier follows.
            if (t > untilNs + 2_000_000_000n) break;
            continue;
          }
          first ??= t;
          const due = Number(t - first) / 1e6 / speed - (performance.now() - began);
          if (due > 1) await new Promise((r) => setTimeout(r, due));
          bus.nc.publish(spec.subject(bus.subjects, msg), encode(msg));
          ctx.stats.msgsOut++;
        }
        ctx.log.info({ from: stream ? detectionStreamName(subjectsFor(stream.prefix)) : file, messages: ctx.stats.msgsOut, invalid: ctx.stats.invalid }, 'replay finished');
        ctx.exit();
      })().catch((err: Error) => ctx.fail(err));
    },
  };
}
