/**
 * The live status line of `skyvox up` on a terminal: actors, restarts, drops, dead letters,
 * and, when a tracker runs, scans per second, confirmed tracks and latency (exposure to the
 * tracks message).
 */
import type { Subscription } from '@nats-io/nats-core';
import type { Bus } from '../bus/bus.js';
import type { NodeSupervisor } from '../actors/node-supervisor/node.js';
import { Tracks, tracksFence } from '../schemas/tracks.js';
import { LatencyWindow } from '../supervisors/latency.js';

/** Starts printing once a second; returns a function that stops it. */
export function startStatusLine(node: NodeSupervisor, bus: Bus, out: NodeJS.WriteStream = process.stdout): () => void {
  let scans = 0;
  let confirmed = 0;
  const latency = new LatencyWindow(128);
  const fresh = tracksFence();
  const sub: Subscription = bus.subscribe(Tracks, bus.subjects.tracks, (m) => {
    if (!fresh(m)) return;
    scans++;
    confirmed = m.tracks.filter((t) => t.status !== 'tentative').length;
    latency.add(Number(m.published_ns - m.t_ns) / 1e6);
  });
  let last = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const fps = (scans * 1000) / Math.max(1, now - last);
    scans = 0;
    last = now;
    const actors = node.list();
    const running = actors.filter((a) => a.status === 'running').length;
    const restarts = actors.reduce((n, a) => n + a.restarts, 0);
    const dropped = actors.reduce((n, a) => n + (a.stats?.dropped ?? 0), 0);
    const invalid = actors.reduce((n, a) => n + (a.stats?.invalid ?? 0), 0) + bus.stats.invalid;
    const l = latency.percentiles();
    const tracking = fps > 0 ? ` · ${fps.toFixed(1)} scans/s · ${confirmed} tracks · latency p50 ${l.p50.toFixed(0)} ms p99 ${l.p99.toFixed(0)} ms` : '';
    out.write(`\r${node.name}: actors ${running}/${actors.length}${tracking} · restarts ${restarts} · dropped ${dropped} · dead-lettered ${invalid}   `);
  }, 1000);
  return () => {
    clearInterval(timer);
    sub.unsubscribe();
    out.write('\n');
  };
}
