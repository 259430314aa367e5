/** Comparing two runs' tracks files. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Scan = { t_ns: bigint; tracks: { id: string; status: string; position: number[] }[] };

/** Scan by scan, two track files agree: same instants (but for the live run's first and last), IDs, states and positions. */
export function assertSameTracks(live: Scan[], other: Scan[], what: string): void {
  const byT = new Map(other.map((s) => [s.t_ns, s]));
  const shared = live.filter((s) => byT.has(s.t_ns));
  assert.ok(shared.length >= live.length - 3 && live.length > 20, `${what}: ${shared.length} of ${live.length} instants`);
  const row = (s: Scan) => s.tracks.map((t) => [t.id, t.status, t.position.map((x) => x.toFixed(6))]);
  for (const s of shared) assert.deepEqual(row(byT.get(s.t_ns)!), row(s), `${what}: instant ${s.t_ns}`);
}

/**
 * A recorded run's voxel and tracker stages dropped nothing (`actors.json`): a frameset they
 * dropped cannot be repeated by a replay or a batch, which process every one, so say so. (A
 * motion actor's dropped frame, and the fusion's thermal view left unpaired by it, can: the
 * recording holds what was analysed.)
 */
export function assertStagesDroppedNothing(recDir: string, what: string): void {
  const actors = JSON.parse(readFileSync(join(recDir, 'actors.json'), 'utf8')) as { name: string; kind: string; dropped: number }[];
  const stages = actors.filter((a) => a.kind === 'voxel' || a.kind === 'tracker');
  assert.ok(stages.length >= 1, `${what}: no voxel or tracker in actors.json: ${JSON.stringify(actors)}`);
  assert.deepEqual(stages.filter((a) => a.dropped > 0), [], `${what}: the voxel or tracker stage dropped framesets`);
}
