/**
 * The tracker actor: each `skyvox.meas` message is one scan; it publishes every track on
 * `skyvox.tracks` and births, confirmations and losses on `skyvox.track.events` (core NATS:
 * live output never waits for JetStream), and appends the same messages to the archive
 * stream with IDs derived from the scan's time, so the durable copy has no gap or duplicate.
 */
import { type ArchiveOptions, ArchiveWriter, ensureArchiveStream } from '../../bus/archive.js';
import { decode, encode } from '../../bus/codec.js';
import { ensureKv, withJetStreamRetry } from '../../bus/jetstream.js';
import type { KV } from '@nats-io/kv';
import { Measurements } from '../../schemas/measurement.js';
import type { MessageOf, MessageType } from '../../schemas/message.js';
import type { Static, TSchema } from '@sinclair/typebox';
import { TrackEvent, Tracks, tracksFence } from '../../schemas/tracks.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import { nowNs, type TimerHandle } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { Tracker, type TrackerOptions, type TrackerSnapshot } from './tracker.js';
import { TrackerStage } from './tracker-stage.js';
import { PairCoverage } from './coverage.js';
import { rigOf } from '../../sim/rig.js';
import { loadScenario } from '../../sim/scenario.js';
import { type MergedScan, ShardMerger } from './shard-merge.js';

type Meas = MessageOf<typeof Measurements>;
/** A measurement message, or the moment to send instants whose missing shards did not come. */
type Input = Meas | 'shard-wait';

/** What a checkpoint holds: the tracker and the actor's own counters. */
interface Checkpoint {
  tracker: TrackerSnapshot;
  t0: bigint | null;
  scan: number;
  t_ns: bigint;
  /** Written as the incarnation on `node` stopped: nothing after it was processed there. */
  final?: boolean;
  node?: string;
  /** The run it belongs to (option `session`), when the run names one. */
  session?: string;
  /** The incarnation that wrote it (its epoch): a later one's checkpoint is never overwritten by an earlier one. */
  epoch?: bigint;
}

/** How long a planned move waits for the old incarnation's final checkpoint before taking the latest one. */
const HANDOVER_WAIT_MS = 3000;

/**
 * Factory for the `tracker` actor kind: options are TrackerOptions (tracker.ts) plus
 * `archive`: false to keep no durable copy, or ArchiveOptions (bus/archive.ts), and
 * `replicas` (default 1; 3 on a 3-server cluster) for the archive stream and the checkpoint
 * bucket, `checkpoint_ms` (default 1000; 0 for none), `restore_max_gap_s` (default 5: a checkpoint
 * older than that, against the first scan's time, is another session's and is ignored), `session` (a run's name: a
 * checkpoint of another named run is ignored too), `scenario` (the rig, a built-in name or a
 * file: a scan missing some pairs then misses no track only they see; coverage.ts): how often the whole state goes to the
 * `<prefix>_state` KV bucket under the actor's name, and is restored from on start, so a
 * tracker restarted on another node continues with the same track IDs. Measurements from
 * voxel shards are gathered into whole instants (shard-merge.ts): `shard_wait_ms` (default 30)
 * is how long an instant waits for a missing shard, `shard_tolerance_ms` (default 10) how far
 * apart parts of one instant may be.
 */
export function trackerActor(f: ActorFactoryContext): ActorBehavior<Input> {
  const { archive: archiveGiven, checkpoint_ms: checkpointMs = 1000, replicas = 1, restore_max_gap_s: restoreMaxGapS = 5, scenario, session, shard_wait_ms: shardWaitMs = 30, shard_tolerance_ms: shardToleranceMs = 10, ...options } = (f.options ?? {}) as Partial<TrackerOptions> & {
    archive?: false | Partial<ArchiveOptions>;
    checkpoint_ms?: number;
    replicas?: number;
    restore_max_gap_s?: number;
    scenario?: string;
    session?: string;
    shard_wait_ms?: number;
    shard_tolerance_ms?: number;
  };
  if (typeof shardWaitMs !== 'number' || !(shardWaitMs >= 0)) throw new TypeError(`options.shard_wait_ms: expected a number of milliseconds ≥ 0, got ${JSON.stringify(shardWaitMs)}`);
  if (typeof shardToleranceMs !== 'number' || !(shardToleranceMs >= 0)) throw new TypeError(`options.shard_tolerance_ms: expected a number of milliseconds ≥ 0, got ${JSON.stringify(shardToleranceMs)}`);
  const merger = new ShardMerger({ waitMs: shardWaitMs, toleranceNs: BigInt(Math.round(shardToleranceMs * 1e6)) });
  let shardTimer: TimerHandle | undefined;
  if (typeof restoreMaxGapS !== 'number' || !(restoreMaxGapS >= 0)) throw new TypeError(`options.restore_max_gap_s: expected a number of seconds ≥ 0, got ${JSON.stringify(restoreMaxGapS)}`);
  if (scenario !== undefined && typeof scenario !== 'string') throw new TypeError(`options.scenario: expected the rig's scenario (a built-in name or a file), got ${JSON.stringify(scenario)}`);
  if (session !== undefined && typeof session !== 'string') throw new TypeError(`options.session: expected a run's name (a string), got ${JSON.stringify(session)}`);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new TypeError(`options.replicas: expected an integer from 1 to 5, got ${JSON.stringify(replicas)}`);
  const archiveOptions = archiveGiven === false ? false : { replicas, ...archiveGiven };
  if (typeof checkpointMs !== 'number' || !(checkpointMs >= 0)) throw new TypeError(`options.checkpoint_ms: expected a number of milliseconds ≥ 0, got ${JSON.stringify(checkpointMs)}`);
  // This incarnation, on every scan: readers keep the newest (schemas/tracks.ts, tracksFence).
  const epoch = f.placedNs ?? nowNs();
  // A placed tracker hears the others' scans as a reader would (tracksFence): one placed after it
  // publishing means this one was moved while its node, starved, had not yet read the order.
  // It then goes quiet — readers keep the newer incarnation's scans anyway, the archive would
  // keep whichever reached it first — and writes no checkpoint over the newer one's, until that
  // one has been silent for as long as a reader waits before hearing an older one again.
  const heard = f.placedNs === undefined ? undefined : tracksFence();
  let superseded = false;
  /** Whether this incarnation may publish and checkpoint now: not fenced by its node, not superseded. */
  const mayAct = (ctx: ActorContext<Input>) => {
    if (f.mayAct && !f.mayAct()) return false;
    const newest = !heard || heard({ epoch });
    if (newest === superseded) {
      superseded = !newest;
      if (superseded) ctx.log.warn({ epoch: String(epoch) }, 'tracker: a later incarnation publishes; this one goes quiet');
      else ctx.log.info({ epoch: String(epoch) }, 'tracker: the later incarnation went silent; this one publishes again');
    }
    return newest;
  };
  let state: KV | undefined;
  /** The checkpoint's revision this incarnation last read or wrote (its writes compare and set). */
  let revision: number | undefined;
  /** A later incarnation's checkpoint is in the bucket: this one writes none over it. */
  let outranked = false;
  let lastCheckpoint = -Infinity;
  let pending: Checkpoint | undefined;
  let handover: string | undefined = f.handoverFrom;
  let skipUpTo: bigint | undefined;
  let saving: Promise<void> | undefined;
  /** Checkpoints not written since the last one that was. */
  let unwritten = 0;
  let lastT: bigint | undefined;
  /** Continues from a checkpoint: its tracks, time origin, and the scan after its last. */
  const resume = (cp: Checkpoint) => {
    stage.tracker.restore(cp.tracker);
    stage.t0 = cp.t0 === null ? undefined : BigInt(cp.t0);
    stage.scan = cp.scan + 1;
  };
  const save = async (ctx: ActorContext<Input>, final = false) => {
    // Fenced (paused past the lease, orders not re-read): another incarnation may own the
    // checkpoint now, and this one's older state must not overwrite it.
    if (!state || lastT === undefined || outranked || !mayAct(ctx)) return;
    lastCheckpoint = performance.now();
    const cp: Checkpoint = { tracker: stage.tracker.snapshot(), t0: stage.t0 ?? null, scan: stage.scan - 1, t_ns: lastT, final, node: f.node, epoch, ...(session === undefined ? {} : { session }) };
    const kv = state;
    const bytes = encode(cp);
    for (let attempt = 0; ; attempt++) {
      try {
        // Compare-and-set on the revision this incarnation last saw: an earlier incarnation still
        // running on a starved node (moved, not yet told) overwrote its successor's checkpoint
        // with its own older lineage of tracks until it heard the successor's scans, for the
        // next failover to restore.
        revision = revision === undefined ? await kv.create(f.name, bytes) : await kv.update(f.name, bytes, revision);
        if (unwritten > 0) ctx.log.info({ unwritten }, 'tracker: checkpoints written again');
        unwritten = 0;
        return;
      } catch (err) {
        // Another incarnation wrote since, or the store did not answer. A later one's
        // checkpoint stands, and this one writes no more; an earlier one's is overwritten.
        const e = await kv.get(f.name).catch(() => undefined);
        const theirs = e && e.operation === 'PUT' && e.length > 0 ? (decode(e.value) as Checkpoint).epoch : undefined;
        if (theirs !== undefined && theirs > epoch) {
          outranked = true;
          ctx.log.warn({ epoch: String(epoch), theirs: String(theirs) }, 'tracker: a later incarnation writes the checkpoint; this one writes no more');
          return;
        }
        const moved = e !== undefined && e !== null && e.revision !== revision;
        if (e) revision = e.revision;
        if (moved && attempt === 0) continue;
        if (unwritten++ === 0) ctx.log.warn({ err: (err as Error).message }, 'tracker: checkpoint not written (said once until one is)');
        return;
      }
    }
  };
  let stage: TrackerStage;
  let archive: ArchiveWriter | undefined;
  /** Publishes live and appends the same bytes to the archive. */
  const out = <S extends TSchema>(ctx: ActorContext<Input>, type: MessageType<S>, subject: string, value: Static<S>, id: string) => {
    // Fenced (this node was paused past the lease and has not re-read its orders) or superseded
    // (a later incarnation publishes): nothing goes out (the state still advances).
    if (!mayAct(ctx)) {
      ctx.stats.dropped++;
      return;
    }
    // Archive first: its first attempt is written to the connection before the live message
    // (bus/archive.ts), so a process killed right after publishing live has already sent the
    // durable copy — unless the stream was failing then, when live output does not wait.
    // Validated and encoded once for both: a scan's tracks take most of a millisecond to encode.
    const message = ctx.bus!.encode(type, value);
    archive?.append(ctx.bus!.subjects.archiveOf(subject), message.bytes, id);
    ctx.publishEncoded(subject, message);
  };
  return {
    async start(ctx) {
      stage = new TrackerStage(options, scenario === undefined ? undefined : new PairCoverage(rigOf(loadScenario(scenario))));
      if (checkpointMs > 0) {
        // A put that hangs (a loaded or electing JetStream) gives up after two checkpoint periods
        // (1 s at least) instead of the client's 5 s: one checkpoint in flight at a time, so a
        // hung one held back every later one, and a failover found state seconds old.
        state = await ensureKv(ctx.bus!.nc, ctx.bus!.subjects.kv.state, { history: 1, replicas }, Math.max(1000, 2 * checkpointMs));
        const kv = state;
        const e = await withJetStreamRetry(() => kv.get(f.name));
        revision = e?.revision;
        if (e && e.operation === 'PUT' && e.length > 0) {
          try {
            pending = decode(e.value) as Checkpoint;
            new Tracker(options).restore(pending.tracker); // checked now, applied at the first scan
          } catch (err) {
            pending = undefined;
            ctx.log.warn({ err: (err as Error).message }, 'tracker: checkpoint unreadable, starting empty');
          }
        }
      }
      if (archiveOptions !== false) {
        await ensureArchiveStream(ctx.bus!.nc, ctx.bus!.subjects, archiveOptions);
        archive = new ArchiveWriter(ctx.bus!.nc, archiveOptions, ctx.log);
      }
      ctx.subscribe(Measurements, ctx.bus!.subjects.meas, (m) => m);
      ctx.subscribe(Measurements, ctx.bus!.subjects.measShards, (m) => m);
      if (heard) ctx.subscribe(Tracks, ctx.bus!.subjects.tracks, (t) => void heard(t));
      if (handover && state) {
        // Subscribed: the old incarnation may stop now (its node waits for this).
        await ctx.bus!.nc.flush();
        await state.put(`${f.name}.standby`, encode({ node: f.node, t_ns: nowNs() }));
      } else handover = undefined;
    },
    async stop(ctx) {
      if (shardTimer) ctx.clock.clearTimeout(shardTimer);
      // Instants still waiting for a shard go out now, before the final checkpoint says where this incarnation stopped.
      for (const m of merger.poll(Infinity)) await scan(m, ctx);
      await saving;
      await save(ctx, true);
      await archive?.close();
    },
    async handle(input, ctx) {
      const now = ctx.clock.now();
      const scans = input === 'shard-wait' ? merger.poll(now) : merger.add(input, now);
      const deadline = merger.deadlineMs;
      if (deadline !== undefined && shardTimer === undefined) {
        shardTimer = ctx.clock.setTimeout(() => {
          shardTimer = undefined;
          ctx.send('shard-wait');
        }, Math.max(0, deadline - now));
      }
      for (const m of scans) await scan(m, ctx);
    },
  };

  /** One whole instant through the tracker, out live and to the archive. */
  async function scan({ meas: m, observed }: MergedScan, ctx: ActorContext<Input>): Promise<void> {
    if (handover) {
      // A planned move: the measurements queued in the mailbox while the old incarnation
      // finishes; its final checkpoint says where it stopped, and we go on from there.
      const from = handover;
      handover = undefined;
      const until = performance.now() + HANDOVER_WAIT_MS;
      let cp: Checkpoint | undefined;
      while (performance.now() < until) {
        const e = await state!.get(f.name).catch(() => null);
        const c = e && e.operation === 'PUT' && e.length > 0 ? (decode(e.value) as Checkpoint) : undefined;
        if (c?.final && c.node === from) {
          cp = c;
          revision = e!.revision;
          break;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      if (!cp) ctx.log.warn({ from, waited_ms: HANDOVER_WAIT_MS }, 'tracker: no final checkpoint from the old node; continuing from the latest');
      cp ??= pending;
      pending = undefined;
      if (cp) {
        resume(cp);
        skipUpTo = BigInt(cp.t_ns);
        ctx.log.info({ from, tracks: stage.tracker.tracks.length, scan: cp.scan }, 'tracker: took over');
      }
    }
    // Already processed by the incarnation this one took over from.
    if (skipUpTo !== undefined && m.t_ns <= skipUpTo) return;
    if (pending) {
      // Only a checkpoint of the same session continues: one older than the gap a track can
      // coast through (an earlier run, a replay of the past) would resurrect dead tracks.
      const cp = pending;
      pending = undefined;
      const gapS = Number(m.t_ns - BigInt(cp.t_ns)) / 1e9;
      // A run that names itself continues only its own checkpoints: a run started seconds after
      // another (back-to-back `up`s on one data directory) must not inherit its tracks.
      // A checkpoint newer than this first measurement was written by the incarnation this one
      // replaced while it still ran (its node too starved to be heard, its tracker moved): it
      // is continued, and the instants it had already tracked are skipped — refused, the
      // tracker started empty and every track took a new ID.
      if (gapS >= -restoreMaxGapS && gapS <= restoreMaxGapS && cp.session === session) {
        resume(cp);
        if (gapS < 0) skipUpTo = BigInt(cp.t_ns);
        // Nobody tracked since the checkpoint: that time is not a sensor's miss, so it does not
        // count against the tracks' coasting (a failover of up to maxCoastS + gap keeps them).
        stage.tracker.holdCoast(gapS);
        ctx.log.info({ tracks: stage.tracker.tracks.length, scan: cp.scan, gap_s: gapS }, 'tracker: continuing from checkpoint');
      } else ctx.log.info({ gap_s: gapS, max_gap_s: restoreMaxGapS, session, checkpoint_session: cp.session }, 'tracker: checkpoint from another session, starting empty');
      if (skipUpTo !== undefined && m.t_ns <= skipUpTo) return;
    }
    const { tracks, events } = stage.step(m, nowNs, observed);
    const s = ctx.bus!.subjects;
    out(ctx, Tracks, s.tracks, { ...tracks, epoch }, `tracks:${m.t_ns}`);
    for (const e of events) out(ctx, TrackEvent, s.trackEvents, e, `event:${m.t_ns}:${e.id}:${e.event}`);
    lastT = m.t_ns;
    // Never awaited here: while JetStream elects a leader a write can hang for seconds, and
    // live tracks must not wait for it. One checkpoint in flight at a time.
    if (state && !saving && performance.now() - lastCheckpoint >= checkpointMs) saving = save(ctx).finally(() => (saving = undefined));
  }
}
