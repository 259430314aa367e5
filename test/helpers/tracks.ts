/** Comparing two runs' tracks files. */
import assert from 'node:assert/strict';

export type Scan = { t_ns: bigint; tracks: { id: string; status: string; position: number[] }[] };

/** Scan by scan, two track files agree: same instants (but for the live run's first and last), IDs, states and positions. */
export function assertSameTracks(live: Scan[], other: Scan[], what: string): void {
  const byT = new Map(other.map((s) => [s.t_ns, s]));
  const shared = live.filter((s) => byT.has(s.t_ns));
  assert.ok(shared.length >= live.length - 3 && live.length > 20, `${what}: ${shared.length} of ${live.length} instants`);
  const row = (s: Scan) => s.tracks.map((t) => [t.id, t.status, t.position.map((x) => x.toFixed(6))]);
  for (const s of shared) assert.deepEqual(row(byT.get(s.t_ns)!), row(s), `${what}: instant ${s.t_ns}`);
}
