/**
 * The recorder actor: writes chosen subjects to JSON-lines files (one message per line, the
 * message's own fields, uint64 as exact integers, bin as base64), e.g. `truth.jsonl`.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { toJsonLine } from '../../bus/json-lines.js';
import { MESSAGE_TYPES } from '../../schemas/index.js';
import { Tracks, tracksFence } from '../../schemas/tracks.js';
import type { ActorBehavior } from '../../supervisors/actor.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';

export interface RecordStream {
  /** Subject (wildcards allowed), without the prefix: `sim.truth`, `det.>`. */
  subject: string;
  /** Message type name (see `skyvox schema`). */
  type: string;
  file: string;
}

interface Line {
  file: string;
  text: string;
}

/** Factory for the `recorder` actor kind: options `{dir, streams: [{subject, type, file}]}`. */
export function recorderActor(f: ActorFactoryContext): ActorBehavior<Line> {
  const dir = f.options.dir;
  if (typeof dir !== 'string') throw new TypeError(`options.dir: expected a directory, got ${JSON.stringify(dir)}`);
  const streams = f.options.streams as RecordStream[] | undefined;
  if (!Array.isArray(streams) || streams.length === 0) throw new TypeError('options.streams: expected a list of {subject, type, file}');
  const files = new Map<string, WriteStream>();
  return {
    start(ctx) {
      mkdirSync(dir, { recursive: true });
      streams.forEach((s, i) => {
        const type = MESSAGE_TYPES.find((t) => t.name === s.type);
        if (!type) throw new TypeError(`options.streams[${i}].type: expected one of ${MESSAGE_TYPES.map((t) => t.name).join(', ')}, got ${JSON.stringify(s.type)}`);
        if (!files.has(s.file)) files.set(s.file, createWriteStream(join(dir, s.file), { flags: 'w' }));
        // Scans of a replaced tracker incarnation still publishing are left out, said once each.
        const fresh = type.name === Tracks.name ? tracksFence() : undefined;
        const fenced = new Set<bigint>();
        ctx.subscribe(type, `${ctx.bus!.subjects.prefix}.${s.subject}`, (value) => {
          const scan = value as { epoch?: bigint };
          if (fresh && !fresh(scan)) {
            if (!fenced.has(scan.epoch!)) ctx.log.info({ file: s.file, epoch: String(scan.epoch) }, 'recorder: scans of a replaced tracker incarnation left out');
            fenced.add(scan.epoch!);
            return undefined;
          }
          return { file: s.file, text: toJsonLine(value) };
        });
      });
    },
    handle(line) {
      files.get(line.file)!.write(`${line.text}\n`);
    },
    async stop() {
      await Promise.all([...files.values()].map((w) => new Promise<void>((res) => w.end(res))));
      files.clear();
    },
  };
}
