import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { FrameRing, FrameRingError } from '../frames/frame-ring.js';
import { compileSlotTable, ruleKey } from '../frames/slot-machine.js';
import { Rng } from '../sim/rng.js';
import { REPO } from './helpers/cli.js';

/** Every byte of frame `seq` is (seq·31 + i) mod 251, so any overwrite is visible. */
const fill = (px: Uint8Array, seq: number) => {
  for (let i = 0; i < px.length; i++) px[i] = (seq * 31 + i) % 251;
};
const intact = (px: Uint8Array, seq: number) => px.every((v, i) => v === (seq * 31 + i) % 251);

describe('frame ring', () => {
  it('follows the slot machine: FREE → WRITING → READY → READING (counted) → FREE', () => {
    const table = compileSlotTable();
    assert.deepEqual(table.get(ruleKey('READY', 'ACQUIRE', false)), { next: 'READING', readersDelta: 1 });
    assert.deepEqual(table.get(ruleKey('READING', 'RELEASE', true)), { next: 'FREE', readersDelta: -1 });
    assert.deepEqual(table.get(ruleKey('READING', 'RELEASE', false)), { next: 'READING', readersDelta: -1 });
    assert.equal(table.get(ruleKey('FREE', 'COMMIT', false)), undefined);
    const ring = FrameRing.create({ slots: 3, width: 4, height: 2, bytesPerPixel: 1 });
    const s = ring.beginWrite()!;
    assert.deepEqual(ring.slot(s), { state: 'WRITING', readers: 0 });
    fill(ring.pixels(s), 1);
    assert.ok(ring.commit(s, { seq: 1, t_ns: 5n, exposure_us: 100 }));
    assert.ok(ring.acquire(s, 1));
    assert.ok(ring.acquire(s, 1));
    assert.deepEqual(ring.slot(s), { state: 'READING', readers: 2 });
    assert.deepEqual(ring.meta(s), { seq: 1, t_ns: 5n, exposure_us: 100 });
    ring.release(s);
    assert.deepEqual(ring.slot(s), { state: 'READING', readers: 1 });
    ring.release(s);
    assert.deepEqual(ring.slot(s), { state: 'FREE', readers: 0 });
  });

  it('refuses and counts illegal transitions', () => {
    const ring = FrameRing.create({ slots: 2, width: 2, height: 2, bytesPerPixel: 1 });
    assert.equal(ring.release(0), false);
    assert.equal(ring.commit(0, { seq: 1, t_ns: 0n, exposure_us: 0 }), false);
    assert.equal(ring.acquire(1, 0), false);
    assert.equal(ring.stats().refused, 3);
    assert.deepEqual(ring.slot(0), { state: 'FREE', readers: 0 });
  });

  it('a full ring drops its oldest READY frame, never one being read or written', () => {
    const ring = FrameRing.create({ slots: 3, width: 2, height: 2, bytesPerPixel: 1 });
    const put = (seq: number) => {
      const s = ring.beginWrite();
      if (s === undefined) return undefined;
      fill(ring.pixels(s), seq);
      ring.commit(s, { seq, t_ns: BigInt(seq), exposure_us: 0 });
      return s;
    };
    const s1 = put(1)!;
    put(2);
    put(3);
    assert.ok(ring.acquire(s1, 1)); // frame 1 is being read
    const s4 = put(4)!; // must evict frame 2, the oldest READY
    assert.equal(ring.meta(s4).seq, 4);
    assert.equal(ring.stats().dropped, 1);
    assert.ok(intact(ring.pixels(s1), 1));
    assert.equal(ring.acquire(s1 === 0 ? 1 : 0, 2), false, 'frame 2 is gone');
    // all busy: one reading, one writing, one reading → no slot to write
    const w = ring.beginWrite()!;
    const third = [0, 1, 2].find((i) => i !== s1 && i !== w)!;
    ring.acquire(third, ring.meta(third).seq);
    assert.equal(ring.beginWrite(), undefined);
    assert.equal(ring.stats().full, 1);
  });

  it('validates its spec with the field and the value', () => {
    assert.throws(() => FrameRing.create({ slots: 1, width: 2, height: 2, bytesPerPixel: 1 }), (e: Error) => e instanceof FrameRingError && /Expected an integer in \[2, 1024\] for slots but received 1/.test(e.message));
    assert.throws(() => FrameRing.create({ slots: 2, width: 2, height: 2, bytesPerPixel: 3 as 1 }), /Expected 1 or 2 for bytesPerPixel but received 3/);
  });

  it('randomized writers and readers: invariants hold after every step', () => {
    const rng = new Rng(99);
    const ring = FrameRing.create({ slots: 5, width: 8, height: 4, bytesPerPixel: 1 });
    const held: { slot: number; seq: number }[] = [];
    const published: { slot: number; seq: number }[] = [];
    let writing: { slot: number; seq: number } | undefined;
    let seq = 0;
    let evictions = 0;
    let illegal = 0;
    for (let step = 0; step < 20_000; step++) {
      const r = rng.next();
      if (r < 0.3 && !writing) {
        const before = [0, 1, 2, 3, 4].map((i) => ring.slot(i).state);
        const s = ring.beginWrite();
        if (s !== undefined) {
          if (before[s] === 'READY') evictions++;
          writing = { slot: s, seq: ++seq };
          fill(ring.pixels(s), seq);
        }
      } else if (r < 0.5 && writing) {
        if (rng.next() < 0.1) ring.abort(writing.slot);
        else {
          ring.commit(writing.slot, { seq: writing.seq, t_ns: BigInt(writing.seq), exposure_us: 0 });
          published.push(writing);
        }
        writing = undefined;
      } else if (r < 0.75 && published.length) {
        const d = published[Math.floor(rng.next() * published.length)]!;
        if (ring.acquire(d.slot, d.seq)) held.push(d);
      } else if (r < 0.95 && held.length) {
        const [d] = held.splice(Math.floor(rng.next() * held.length), 1);
        assert.ok(intact(ring.pixels(d!.slot), d!.seq), `frame ${d!.seq} changed while it was being read`);
        ring.release(d!.slot);
      } else {
        // an illegal move: release or commit a slot that is FREE
        const free = [0, 1, 2, 3, 4].find((i) => ring.slot(i).state === 'FREE');
        if (free !== undefined) {
          assert.equal(rng.next() < 0.5 ? ring.release(free) : ring.commit(free, { seq: 0, t_ns: 0n, exposure_us: 0 }), false);
          illegal++;
        }
      }
      for (let i = 0; i < 5; i++) {
        const { state, readers } = ring.slot(i);
        assert.equal(readers > 0, state === 'READING', `slot ${i}: ${state} with ${readers} readers`);
        assert.equal(readers, held.filter((h) => h.slot === i).length, `slot ${i} reader count`);
        if (writing?.slot === i) assert.equal(state, 'WRITING');
      }
      for (const h of held) assert.ok(intact(ring.pixels(h.slot), h.seq));
    }
    assert.equal(ring.stats().dropped, evictions);
    // refusals: the illegal moves, plus acquires of frames that had been dropped meanwhile
    assert.ok(ring.stats().refused >= illegal);
    assert.ok(evictions > 100 && seq > 1000, 'the run exercised eviction');
  });

  it('readers on other threads see whole frames and never a reused slot', async function () {
    this.timeout(30_000);
    const ring = FrameRing.create({ slots: 4, width: 64, height: 32, bytesPerPixel: 1 });
    const counts = new Int32Array(new SharedArrayBuffer(8));
    const workers = [0, 1].map((index) => new Worker(join(REPO, 'test/fixtures/ring-reader.mjs'), { workerData: { shared: ring.shared, counts: counts.buffer, index } }));
    try {
      const next = (w: Worker) => new Promise<any>((res, rej) => {
        w.once('message', res);
        w.once('error', rej);
      });
      await Promise.all(workers.map(next)); // each reader is listening
      const results = workers.map(next);
      // At least 3000 frames, and on until each reader has read 200 of them: on a loaded machine
      // the readers are scheduled late and most frames are overwritten before they look.
      const enough = () => counts.every((n) => n >= 200);
      for (let seq = 1; seq <= 3000 || (!enough() && seq <= 300_000); seq++) {
        const s = ring.beginWrite();
        if (s === undefined) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        fill(ring.pixels(s), seq);
        ring.commit(s, { seq, t_ns: BigInt(seq), exposure_us: 0 });
        for (const w of workers) w.postMessage({ slot: s, seq });
        if (seq % 50 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      for (const w of workers) w.postMessage({ done: true });
      const outcome = (await Promise.all(results)) as { reads: number; torn: number }[];
      for (const o of outcome) {
        assert.equal(o.torn, 0, 'a reader saw a frame change under it');
        assert.ok(o.reads > 100, `only ${o.reads} reads`);
      }
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });
});
