import assert from 'node:assert/strict';
import { ManualClock } from '../supervisors/clock.js';
import { RestartIntensityError, Supervisor, SupervisorStartError, type SupervisorEvent } from '../supervisors/supervisor.js';
import { journal, recording, settle, statuses } from './helpers/children.js';

describe('supervisor (Erlang/OTP semantics)', () => {
  it('starts children in order and stops them in reverse', async () => {
    const j = journal();
    const sup = new Supervisor('s', [recording(j, 'a'), recording(j, 'b'), recording(j, 'c')]);
    await sup.start();
    await sup.stop();
    assert.deepEqual(j.events, ['start:a', 'start:b', 'start:c', 'stop:c', 'stop:b', 'stop:a']);
    await sup.stop(); // a second stop is harmless
  });

  it('one_for_one restarts only the child that failed', async () => {
    const j = journal();
    const sup = new Supervisor('s', [recording(j, 'a'), recording(j, 'b'), recording(j, 'c')], { strategy: 'one_for_one' });
    await sup.start();
    j.events.length = 0;
    j.live.get('b')!.crash();
    await settle();
    assert.deepEqual(j.events, ['stop:b', 'start:b']);
    assert.deepEqual([...j.incarnations], [['a', 1], ['b', 2], ['c', 1]]);
    assert.equal(sup.children().find((c) => c.id === 'b')!.restarts, 1);
    await sup.stop();
  });

  it('one_for_all stops the others in reverse and restarts all in order', async () => {
    const j = journal();
    const sup = new Supervisor('s', [recording(j, 'a'), recording(j, 'b'), recording(j, 'c')], { strategy: 'one_for_all' });
    await sup.start();
    j.events.length = 0;
    j.live.get('b')!.crash();
    await settle();
    assert.deepEqual(j.events, ['stop:b', 'stop:c', 'stop:a', 'start:a', 'start:b', 'start:c']);
    assert.deepEqual([...j.incarnations], [['a', 2], ['b', 2], ['c', 2]]);
    await sup.stop();
  });

  it('rest_for_one restarts the failed child and those started after it', async () => {
    const j = journal();
    const sup = new Supervisor('s', [recording(j, 'a'), recording(j, 'b'), recording(j, 'c')], { strategy: 'rest_for_one' });
    await sup.start();
    j.events.length = 0;
    j.live.get('b')!.crash();
    await settle();
    assert.deepEqual(j.events, ['stop:b', 'stop:c', 'start:b', 'start:c']);
    assert.deepEqual([...j.incarnations], [['a', 1], ['b', 2], ['c', 2]]);
    await sup.stop();
  });

  it('permanent children come back even after a normal exit', async () => {
    const j = journal();
    const sup = new Supervisor('s', [recording(j, 'p', { restart: 'permanent', behavior: { handle: (_m, ctx) => ctx.exit() } })]);
    await sup.start();
    j.live.get('p')!.send('finish');
    await settle();
    assert.equal(j.incarnations.get('p'), 2);
    assert.equal(statuses(sup).p, 'running');
    await sup.stop();
  });

  it('transient children come back after an error but not after a normal exit', async () => {
    const j = journal();
    const sup = new Supervisor('s', [
      recording(j, 't', {
        restart: 'transient',
        behavior: {
          handle: (m, ctx) => {
            if (m === 'boom') throw new Error('boom');
            ctx.exit();
          },
        },
      }),
    ]);
    await sup.start();
    j.live.get('t')!.send('boom');
    await settle();
    assert.equal(j.incarnations.get('t'), 2, 'restarted after the error');
    j.live.get('t')!.send('finish');
    await settle();
    assert.equal(j.incarnations.get('t'), 2, 'not restarted after a normal exit');
    assert.equal(statuses(sup).t, 'stopped');
    await sup.stop();
  });

  it('temporary children are never restarted and leave the child list', async () => {
    const j = journal();
    const sup = new Supervisor('s', [recording(j, 'keep'), recording(j, 'tmp', { restart: 'temporary' })]);
    await sup.start();
    j.live.get('tmp')!.crash();
    await settle();
    assert.equal(j.incarnations.get('tmp'), 1);
    assert.deepEqual(sup.children().map((c) => c.id), ['keep']);
    await sup.stop();
  });

  it('beyond intensity within the period, shuts its children down and fails to its parent', async () => {
    const clock = new ManualClock(0);
    const j = journal();
    const events: SupervisorEvent[] = [];
    const inner = () => new Supervisor('inner', [recording(j, 'x'), recording(j, 'y')], { intensity: 3, periodMs: 5000, clock, onEvent: (e) => events.push(e) });
    let innerNow: Supervisor | undefined;
    const parent = new Supervisor('parent', [{ id: 'inner', kind: 'supervisor', create: () => (innerNow = inner()) }], { intensity: 1, periodMs: 5000, clock });
    await parent.start();
    const first = innerNow!;
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      j.live.get('x')!.crash();
      await settle();
    }
    assert.equal(j.incarnations.get('x'), 4, 'three restarts are within the intensity');
    assert.equal(first.state, 'running');
    j.events.length = 0;
    clock.advance(1000);
    j.live.get('x')!.crash();
    await settle();
    assert.equal(first.state, 'failed');
    const escalated = events.find((e) => e.type === 'escalated');
    assert.ok(escalated && escalated.type === 'escalated' && escalated.error instanceof RestartIntensityError);
    assert.deepEqual(j.events.slice(0, 2), ['stop:x', 'stop:y'], 'the failing supervisor stopped its children');
    assert.notEqual(innerNow, first, 'the parent restarted the failed supervisor');
    assert.equal(innerNow!.state, 'running');
    await parent.stop();
  });

  it('forgets restarts older than the period', async () => {
    const clock = new ManualClock(0);
    const j = journal();
    const sup = new Supervisor('s', [recording(j, 'x')], { intensity: 2, periodMs: 1000, clock });
    await sup.start();
    for (let i = 0; i < 6; i++) {
      clock.advance(600); // at most two restarts in any 1000 ms window
      j.live.get('x')!.crash();
      await settle();
    }
    assert.equal(sup.state, 'running');
    assert.equal(j.incarnations.get('x'), 7);
    await sup.stop();
  });

  it('abandons a child that does not stop within its shutdown timeout, reports it, and goes on', async () => {
    const clock = new ManualClock(0);
    const j = journal();
    const events: SupervisorEvent[] = [];
    const sup = new Supervisor('s', [recording(j, 'a'), recording(j, 'stuck', { hangOnStop: true, shutdownMs: 2000 })], { clock, onEvent: (e) => events.push(e) });
    await sup.start();
    const stopping = sup.stop();
    await settle();
    assert.deepEqual(j.events.slice(-1), ['stop:stuck']);
    assert.ok(!j.events.includes('stop:a'), 'waits for the stuck child first');
    clock.advance(1999);
    await settle();
    assert.ok(!j.events.includes('stop:a'));
    clock.advance(1);
    await stopping;
    assert.deepEqual(j.events.slice(-1), ['stop:a']);
    assert.deepEqual(events.filter((e) => e.type === 'abandoned'), [{ type: 'abandoned', supervisor: 's', child: 'stuck', afterMs: 2000 }]);
    assert.equal(statuses(sup).stuck, 'abandoned');
  });

  it('when a child fails to start, stops those already started and rejects', async () => {
    const j = journal();
    const sup = new Supervisor('s', [recording(j, 'a'), recording(j, 'b', { failStartOn: [1] }), recording(j, 'c')]);
    await assert.rejects(sup.start(), (err: Error) => err instanceof SupervisorStartError && /child b failed to start: b refuses to start/.test(err.message));
    assert.deepEqual(j.events, ['start:a', 'stop:a']);
    assert.equal(sup.state, 'failed');
  });

  it('waits a growing, capped backoff before each restart', async () => {
    const clock = new ManualClock(0);
    const j = journal();
    const sup = new Supervisor('s', [recording(j, 'x')], { intensity: 10, periodMs: 60_000, backoff: { minMs: 100, maxMs: 300, jitter: 0 }, clock });
    await sup.start();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = j.incarnations.get('x')!;
      j.live.get('x')!.crash();
      await settle();
      let waited = 0;
      while (j.incarnations.get('x') === before) {
        clock.advance(10);
        waited += 10;
        await settle(3);
        assert.ok(waited < 1000, 'restart never happened');
      }
      waits.push(waited);
    }
    assert.deepEqual(waits, [100, 200, 300, 300]);
    await sup.stop();
  });

  it('a restart that fails to start counts as another failure', async () => {
    const clock = new ManualClock(0);
    const j = journal();
    const events: SupervisorEvent[] = [];
    const sup = new Supervisor('s', [recording(j, 'x', { failStartOn: [2, 3, 4, 5] })], { intensity: 3, periodMs: 5000, clock, onEvent: (e) => events.push(e) });
    await sup.start();
    j.live.get('x')!.crash();
    await settle(30);
    assert.equal(sup.state, 'failed', 'restart attempts exhausted the intensity');
    assert.equal(j.incarnations.get('x'), 4);
    assert.ok(events.some((e) => e.type === 'escalated'));
  });
});
