import assert from 'node:assert/strict';
import { assign, createMachine } from 'xstate';
import { Actor } from '../supervisors/actor.js';
import type { ExitReason } from '../supervisors/child.js';
import { machineBehavior } from '../supervisors/machine-behavior.js';
import { Mailbox } from '../supervisors/mailbox.js';
import { settle } from './helpers/children.js';

describe('mailbox', () => {
  it('drop-oldest keeps the newest messages and counts the dropped', () => {
    const box = new Mailbox<number>({ capacity: 3, overflow: 'drop-oldest' });
    for (let i = 1; i <= 5; i++) assert.equal(box.push(i, 0), true);
    assert.equal(box.dropped, 2);
    assert.deepEqual([box.shift()?.msg, box.shift()?.msg, box.shift()?.msg, box.shift()], [3, 4, 5, undefined]);
  });

  it('reject refuses new messages when full and counts them', () => {
    const box = new Mailbox<number>({ capacity: 2, overflow: 'reject' });
    assert.deepEqual([1, 2, 3, 4].map((i) => box.push(i, 0)), [true, true, false, false]);
    assert.equal(box.rejected, 2);
    assert.deepEqual([box.shift()?.msg, box.shift()?.msg], [1, 2]);
  });

  it('names the field and the value on bad options', () => {
    assert.throws(() => new Mailbox({ capacity: 0, overflow: 'reject' }), /Expected positive integer for mailbox.capacity but received 0/);
    assert.throws(() => new Mailbox({ capacity: 1, overflow: 'newest' as never }), /Expected one of drop-oldest, reject for mailbox.overflow but received newest/);
  });
});

describe('actor', () => {
  it('handles one message at a time, in order, even when handlers are async', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const seen: number[] = [];
    const actor = new Actor<number>({
      name: 'serial',
      kind: 'test',
      behavior: {
        async handle(n) {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, n % 3));
          seen.push(n);
          inFlight--;
        },
      },
    });
    await actor.start();
    for (let i = 0; i < 20; i++) actor.send(i);
    await actor.stop();
    assert.equal(maxInFlight, 1);
    assert.deepEqual(seen, [...Array(20).keys()]);
    assert.equal(actor.stats.msgsIn, 20);
  });

  it('counts what a full mailbox drops or refuses', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const actor = new Actor<number>({ name: 'busy', kind: 'test', mailbox: { capacity: 2, overflow: 'reject' }, behavior: { handle: () => gate } });
    await actor.start();
    actor.send(0);
    await settle(); // 0 is being handled; the mailbox is empty again
    assert.deepEqual([1, 2, 3, 4].map((i) => actor.send(i)), [true, true, false, false]);
    assert.equal(actor.stats.dropped, 2);
    assert.equal(actor.mailboxDepth, 2);
    release();
    await actor.stop();
  });

  it('crashes when a handler throws, reports the error once, and refuses further messages', async () => {
    const exits: ExitReason[] = [];
    const actor = new Actor<string>({ name: 'fragile', kind: 'test', behavior: { handle: (m) => { if (m === 'bad') throw new Error('bad input'); } } });
    actor.onExit((r) => exits.push(r));
    await actor.start();
    actor.send('ok');
    actor.send('bad');
    actor.send('never');
    await settle();
    assert.equal(exits.length, 1);
    assert.equal(exits[0]!.kind, 'error');
    assert.match((exits[0] as { error: Error }).error.message, /bad input/);
    assert.equal(actor.status, 'crashed');
    assert.equal(actor.stats.errors, 1);
    assert.equal(actor.send('late'), false);
  });

  it('runs an xstate machine as its behaviour: events drive it, an error in it crashes the actor', async () => {
    const counter = createMachine({
      types: {} as { context: { n: number }; events: { type: 'inc' } | { type: 'explode' } | { type: 'finish' } },
      context: { n: 0 },
      initial: 'counting',
      states: {
        counting: {
          on: {
            inc: { actions: assign({ n: ({ context }) => context.n + 1 }) },
            explode: { actions: () => { throw new Error('machine exploded'); } },
            finish: 'done',
          },
        },
        done: { type: 'final' },
      },
    });
    const behavior = machineBehavior(counter);
    const exits: ExitReason[] = [];
    const actor = new Actor({ name: 'counter', kind: 'test', behavior });
    actor.onExit((r) => exits.push(r));
    await actor.start();
    actor.send({ type: 'inc' });
    actor.send({ type: 'inc' });
    await settle();
    assert.equal(behavior.machineActor()!.getSnapshot().context.n, 2);
    actor.send({ type: 'explode' });
    await settle();
    assert.equal(exits[0]?.kind, 'error');

    const b2 = machineBehavior(counter);
    const done: ExitReason[] = [];
    const a2 = new Actor({ name: 'counter2', kind: 'test', behavior: b2 });
    a2.onExit((r) => done.push(r));
    await a2.start();
    a2.send({ type: 'finish' });
    await settle();
    assert.deepEqual(done, [{ kind: 'normal' }], 'a final state ends the actor normally');
  });
});
