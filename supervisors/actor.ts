/**
 * An actor: a bounded mailbox, one message handled at a time, a behaviour with start / handle /
 * stop hooks, and counters for telemetry. A throwing handler crashes the actor; its
 * supervisor decides what happens next.
 */
import type { Msg, Subscription } from '@nats-io/nats-core';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Bus, EncodedMessage } from '../bus/bus.js';
import type { MessageType } from '../schemas/message.js';
import type { ActorStatus } from '../schemas/telemetry.js';
import { type ExitReason, ExitSignal, type Supervisable } from './child.js';
import { type Clock, realClock, type TimerHandle } from './clock.js';
import { LatencyWindow } from './latency.js';
import { type Logger, silentLogger } from './log.js';
import { DEFAULT_MAILBOX, Mailbox, type MailboxOptions } from './mailbox.js';

/** Counters that outlive one incarnation, so telemetry stays cumulative across restarts. */
export class ActorStats {
  msgsIn = 0;
  msgsOut = 0;
  errors = 0;
  dropped = 0;
  invalid = 0;
  /** Wall time spent in `handle` (ms): the actor's measured cost, for placement. */
  busyMs = 0;
  /** When (performance.now()) a message last arrived on each subject its subscriptions hold: liveness. */
  readonly lastReceived = new Map<string, number>();
  /** When it last published on each subject. */
  readonly lastSent = new Map<string, number>();
  readonly latency = new LatencyWindow();
}

/** What a behaviour can do. */
export interface ActorContext<M> {
  readonly name: string;
  readonly kind: string;
  readonly log: Logger;
  readonly clock: Clock;
  /** Aborted when this incarnation ends, for any reason. */
  readonly signal: AbortSignal;
  /** The bus scoped to this actor, when the actor has one. */
  readonly bus: Bus | undefined;
  /** This actor's counters (reported in telemetry), for drops the behaviour itself sees. */
  readonly stats: ActorStats;
  /** Puts a message in this actor's own mailbox. */
  send(msg: M): boolean;
  /** Publishes a typed message and counts it. */
  publish<S extends TSchema>(type: MessageType<S>, subject: string, value: Static<S>): void;
  /** Publishes a message the bus validated and encoded (`bus.encode`) and counts it. */
  publishEncoded(subject: string, message: EncodedMessage): void;
  /** Subscribes; valid messages are mapped and enqueued (unless mapped to undefined: not wanted), invalid ones dead-lettered. Unsubscribed on exit. */
  subscribe<S extends TSchema>(type: MessageType<S>, subject: string, toMessage: (value: Static<S>, msg: Msg) => M | undefined): Subscription;
  /** Ends this actor normally (a transient actor is then not restarted). */
  exit(): void;
  /** Crashes this actor from asynchronous code. */
  fail(error: Error): void;
}

/** The behaviour an actor runs. All hooks are optional. */
export interface ActorBehavior<M> {
  start?(ctx: ActorContext<M>): void | Promise<void>;
  handle?(msg: M, ctx: ActorContext<M>): void | Promise<void>;
  stop?(ctx: ActorContext<M>): void | Promise<void>;
}

export interface ActorOptions<M> {
  name: string;
  kind: string;
  behavior: ActorBehavior<M>;
  mailbox?: MailboxOptions;
  bus?: Bus;
  log?: Logger;
  clock?: Clock;
  stats?: ActorStats;
}

/** Error used by fault injection (`skyvox ctl NODE crash ACTOR`). */
export class InjectedFault extends Error {
  override name = 'InjectedFault';
}

/** One incarnation of an actor. */
export class Actor<M = unknown> implements Supervisable {
  readonly id: string;
  readonly kind: string;
  readonly stats: ActorStats;
  #status: ActorStatus = 'stopped';
  #behavior: ActorBehavior<M>;
  #mailbox: Mailbox<M>;
  #clock: Clock;
  #log: Logger;
  #bus: Bus | undefined;
  #abort = new AbortController();
  #exit = new ExitSignal();
  #subs: Subscription[] = [];
  #draining: Promise<void> | undefined;
  #ended = false;
  #ctx: ActorContext<M>;

  constructor(options: ActorOptions<M>) {
    this.id = options.name;
    this.kind = options.kind;
    this.#behavior = options.behavior;
    this.#mailbox = new Mailbox<M>(options.mailbox ?? DEFAULT_MAILBOX);
    this.#clock = options.clock ?? realClock;
    this.#log = (options.log ?? silentLogger).child({ actor: options.name });
    this.stats = options.stats ?? new ActorStats();
    const stats = this.stats;
    this.#bus = options.bus?.forReceiver(options.name, this.#log, () => stats.invalid++, {
      received: (subject) => stats.lastReceived.set(subject, performance.now()),
      sent: (subject) => stats.lastSent.set(subject, performance.now()),
    });
    this.#ctx = this.#makeContext();
  }

  get status(): ActorStatus {
    return this.#status;
  }

  get mailboxDepth(): number {
    return this.#mailbox.depth;
  }

  onExit(listener: (reason: ExitReason) => void): () => void {
    return this.#exit.on(listener);
  }

  async start(): Promise<void> {
    this.#status = 'starting';
    try {
      await this.#behavior.start?.(this.#ctx);
    } catch (err) {
      this.#release();
      this.#status = 'crashed';
      this.stats.errors++;
      throw err;
    }
    if (this.#ended) return;
    this.#status = 'running';
    this.#schedule();
  }

  /** Enqueues a message; false when the mailbox refused it or the actor is not running. */
  send(msg: M): boolean {
    if (this.#ended) return false;
    const before = this.#mailbox.dropped + this.#mailbox.rejected;
    const accepted = this.#mailbox.push(msg, this.#clock.now());
    this.stats.dropped += this.#mailbox.dropped + this.#mailbox.rejected - before;
    if (accepted) this.#schedule();
    return accepted;
  }

  /** Fault injection: crash as if the handler had thrown. */
  crash(error: Error = new InjectedFault(`fault injected into ${this.id}`)): void {
    this.#fail(error);
  }

  /** Finishes the message in hand and what is queued, runs the stop hook, then resolves. */
  async stop(): Promise<void> {
    if (this.#ended) return;
    this.#status = 'stopping';
    this.#ended = true;
    await this.#draining;
    await this.#drainRemaining();
    try {
      await this.#behavior.stop?.(this.#ctx);
    } finally {
      this.#release();
      this.#status = 'stopped';
    }
  }

  kill(): void {
    this.#ended = true;
    this.#mailbox.clear();
    this.#release();
    this.#status = 'abandoned';
  }

  #makeContext(): ActorContext<M> {
    const self = this;
    return {
      name: this.id,
      kind: this.kind,
      log: this.#log,
      clock: this.#clock,
      signal: this.#abort.signal,
      bus: this.#bus,
      stats: this.stats,
      send: (msg) => self.send(msg),
      publish(type, subject, value) {
        if (!self.#bus) throw new Error(`actor ${self.id} has no bus to publish on`);
        self.#bus.publish(type, subject, value);
        self.stats.msgsOut++;
      },
      publishEncoded(subject, message) {
        if (!self.#bus) throw new Error(`actor ${self.id} has no bus to publish on`);
        self.#bus.publishEncoded(subject, message);
        self.stats.msgsOut++;
      },
      subscribe(type, subject, toMessage) {
        if (!self.#bus) throw new Error(`actor ${self.id} has no bus to subscribe with`);
        const sub = self.#bus.subscribe(type, subject, (value, msg) => {
          // Filtered before the mailbox, so unwanted messages never push wanted ones out of it.
          const m = toMessage(value, msg);
          if (m !== undefined) self.send(m);
        });
        self.#subs.push(sub);
        return sub;
      },
      exit: () => self.#finish({ kind: 'normal' }),
      fail: (error) => self.#fail(error),
    };
  }

  #schedule(): void {
    if (this.#draining || this.#status !== 'running' || this.#mailbox.depth === 0) return;
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      this.#schedule();
    });
  }

  async #drain(): Promise<void> {
    // Yield first so a burst of sends is handled as one batch, in order.
    await Promise.resolve();
    while (this.#status === 'running') {
      const entry = this.#mailbox.shift();
      if (!entry) return;
      if (!(await this.#handleOne(entry.msg, entry.enqueuedAt))) return;
    }
  }

  async #drainRemaining(): Promise<void> {
    for (let entry = this.#mailbox.shift(); entry; entry = this.#mailbox.shift()) {
      if (!(await this.#handleOne(entry.msg, entry.enqueuedAt))) return;
    }
  }

  async #handleOne(msg: M, enqueuedAt: number): Promise<boolean> {
    const began = performance.now();
    try {
      await this.#behavior.handle?.(msg, this.#ctx);
    } catch (err) {
      this.#fail(err instanceof Error ? err : new Error(String(err)));
      return false;
    } finally {
      this.stats.busyMs += performance.now() - began;
    }
    this.stats.msgsIn++;
    this.stats.latency.add(this.#clock.now() - enqueuedAt);
    return true;
  }

  #fail(error: Error): void {
    if (this.#status === 'crashed' || this.#status === 'stopped' || this.#status === 'abandoned') return;
    this.stats.errors++;
    this.#log.error({ err: error }, 'actor crashed');
    this.#status = 'crashed';
    this.#finish({ kind: 'error', error });
  }

  #finish(reason: ExitReason): void {
    const wasEnded = this.#ended;
    this.#ended = true;
    if (reason.kind === 'normal') this.#status = 'stopped';
    const dropped = this.#mailbox.clear();
    this.stats.dropped += dropped;
    // The stop hook still runs so the behaviour can release what it holds; its errors are logged.
    void Promise.resolve()
      .then(() => (wasEnded ? undefined : this.#behavior.stop?.(this.#ctx)))
      .catch((err: unknown) => this.#log.warn({ err }, 'stop hook failed after exit'))
      .finally(() => {
        this.#release();
        if (!wasEnded) this.#exit.emit(reason);
      });
  }

  #release(): void {
    this.#abort.abort();
    for (const sub of this.#subs.splice(0)) sub.unsubscribe();
  }
}

/** Runs `fn` every `periodMs` on the actor's clock until its incarnation ends (its signal aborts). */
export function every(ctx: Pick<ActorContext<unknown>, 'clock' | 'signal'>, periodMs: number, fn: () => void): void {
  let timer: TimerHandle | undefined;
  const arm = () => {
    timer = ctx.clock.setTimeout(() => {
      fn();
      if (!ctx.signal.aborted) arm();
    }, periodMs);
  };
  ctx.signal.addEventListener('abort', () => timer !== undefined && ctx.clock.clearTimeout(timer), { once: true });
  arm();
}
