/**
 * An Erlang/OTP-style supervisor. Children start in order and stop in reverse. When a child
 * exits on its own, its restart type decides whether it comes back, the strategy decides which
 * siblings restart with it, and the intensity (max restarts within a period) decides when the
 * supervisor gives up: it then stops every child and fails to its own parent.
 */
import type { ActorStatus } from '../schemas/telemetry.js';
import { type ChildSpec, type ExitReason, ExitSignal, type RestartType, type Supervisable } from './child.js';
import { type Clock, realClock } from './clock.js';
import { type Logger, silentLogger } from './log.js';

export const STRATEGIES = ['one_for_one', 'one_for_all', 'rest_for_one'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** Optional delay before a restart: min·2^(n−1) capped at max, ± jitter (a fraction). */
export interface Backoff {
  minMs: number;
  maxMs: number;
  jitter: number;
}

export interface SupervisorOptions {
  strategy?: Strategy;
  /** Max restarts within `periodMs` before the supervisor fails (default 3). */
  intensity?: number;
  periodMs?: number;
  backoff?: Backoff;
  clock?: Clock;
  log?: Logger;
  random?: () => number;
  onEvent?: (event: SupervisorEvent) => void;
}

export type SupervisorEvent =
  | { type: 'started'; supervisor: string; child: string }
  | { type: 'exited'; supervisor: string; child: string; reason: ExitReason }
  | { type: 'restarted'; supervisor: string; child: string; restarts: number }
  | { type: 'abandoned'; supervisor: string; child: string; afterMs: number }
  | { type: 'escalated'; supervisor: string; error: Error };

/** The supervisor saw more restarts than its intensity allows. */
export class RestartIntensityError extends Error {
  override name = 'RestartIntensityError';
}

/** A child failed to start while the supervisor itself was starting. */
export class SupervisorStartError extends Error {
  override name = 'SupervisorStartError';
}

export const DEFAULT_SHUTDOWN_MS = 5000;

/** What `list` reports about a child. */
export interface ChildInfo {
  id: string;
  kind: string;
  status: ActorStatus;
  restarts: number;
  startedAt: number | undefined;
  instance: Supervisable | undefined;
}

interface ChildRecord {
  spec: ChildSpec;
  restart: RestartType;
  instance: Supervisable | undefined;
  unwatch: (() => void) | undefined;
  status: ActorStatus;
  restarts: number;
  startedAt: number | undefined;
  consecutive: number;
}

type State = 'idle' | 'running' | 'stopping' | 'stopped' | 'failed';

/** A supervisor of an ordered list of children; itself Supervisable, so trees nest. */
export class Supervisor implements Supervisable {
  readonly id: string;
  readonly strategy: Strategy;
  #children: ChildRecord[];
  #intensity: number;
  #periodMs: number;
  #backoff: Backoff | undefined;
  #clock: Clock;
  #log: Logger;
  #random: () => number;
  #onEvent: (event: SupervisorEvent) => void;
  #restartTimes: number[] = [];
  #state: State = 'idle';
  #exit = new ExitSignal();
  // Exits and operator commands are handled one at a time, in arrival order.
  #ops: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;

  constructor(id: string, children: ChildSpec[], options: SupervisorOptions = {}) {
    this.id = id;
    this.strategy = options.strategy ?? 'one_for_one';
    if (!STRATEGIES.includes(this.strategy)) {
      throw new RangeError(`Expected one of ${STRATEGIES.join(', ')} for strategy but received ${String(this.strategy)}`);
    }
    this.#intensity = options.intensity ?? 3;
    this.#periodMs = options.periodMs ?? 5000;
    if (!Number.isInteger(this.#intensity) || this.#intensity < 0) throw new RangeError(`Expected non-negative integer for intensity but received ${this.#intensity}`);
    if (!(this.#periodMs > 0)) throw new RangeError(`Expected positive number for periodMs but received ${this.#periodMs}`);
    this.#backoff = options.backoff;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.log ?? silentLogger).child({ supervisor: id });
    this.#random = options.random ?? Math.random;
    this.#onEvent = options.onEvent ?? (() => {});
    const ids = new Set<string>();
    this.#children = children.map((spec) => {
      if (ids.has(spec.id)) throw new RangeError(`Expected unique child ids but "${spec.id}" appears twice in ${id}`);
      ids.add(spec.id);
      return { spec, restart: spec.restart ?? 'permanent', instance: undefined, unwatch: undefined, status: 'stopped', restarts: 0, startedAt: undefined, consecutive: 0 };
    });
  }

  get state(): State {
    return this.#state;
  }

  onExit(listener: (reason: ExitReason) => void): () => void {
    return this.#exit.on(listener);
  }

  /** Starts every child in order; if one fails, stops those started (in reverse) and rejects. */
  async start(): Promise<void> {
    this.#state = 'running';
    for (const rec of this.#children) {
      try {
        await this.#startChild(rec);
      } catch (err) {
        await this.#stopRecords([...this.#children].reverse());
        this.#state = 'failed';
        throw new SupervisorStartError(`${this.id}: child ${rec.spec.id} failed to start: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  /** Stops every child in reverse order, each within its shutdown timeout. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#state === 'stopped' || this.#state === 'failed') return;
      this.#state = 'stopping';
      await this.#stopRecords([...this.#children].reverse());
      this.#state = 'stopped';
    })();
    return this.#stopping;
  }

  kill(): void {
    this.#state = 'stopped';
    for (const rec of this.#children) {
      rec.unwatch?.();
      rec.instance?.kill?.();
      rec.instance = undefined;
      rec.status = 'abandoned';
    }
  }

  /** Children in start order, with nested supervisors' children flattened after them. */
  children(): ChildInfo[] {
    return this.#children.map((r) => ({ id: r.spec.id, kind: r.spec.kind, status: r.status, restarts: r.restarts, startedAt: r.startedAt, instance: r.instance }));
  }

  /** Operator restart of one child (stop, then start); not counted against the intensity. */
  restartChild(id: string): Promise<void> {
    const rec = this.#children.find((r) => r.spec.id === id);
    if (!rec) return Promise.reject(new RangeError(`no child ${id} in ${this.id}`));
    return this.#enqueue(async () => {
      if (this.#state !== 'running') return;
      await this.#stopRecords([rec]);
      rec.restarts++;
      await this.#startChild(rec);
      this.#onEvent({ type: 'restarted', supervisor: this.id, child: rec.spec.id, restarts: rec.restarts });
    });
  }

  /** Adds and starts a child at the end (OTP's start_child); rejects on a duplicate id or a failed start. */
  startChild(spec: ChildSpec): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state !== 'running') throw new Error(`${this.id} is not running`);
      if (this.#children.some((r) => r.spec.id === spec.id)) throw new RangeError(`Expected unique child ids but "${spec.id}" is already in ${this.id}`);
      const rec: ChildRecord = { spec, restart: spec.restart ?? 'permanent', instance: undefined, unwatch: undefined, status: 'stopped', restarts: 0, startedAt: undefined, consecutive: 0 };
      this.#children.push(rec);
      try {
        await this.#startChild(rec);
      } catch (err) {
        this.#children = this.#children.filter((r) => r !== rec);
        throw err;
      }
    });
  }

  /** Stops a child within its shutdown timeout and removes it (OTP's terminate_child + delete_child). */
  terminateChild(id: string): Promise<void> {
    return this.#enqueue(async () => {
      const rec = this.#children.find((r) => r.spec.id === id);
      if (!rec) return;
      await this.#stopRecords([rec]);
      this.#children = this.#children.filter((r) => r !== rec);
    });
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.#ops.then(op);
    this.#ops = next.catch((err: unknown) => this.#log.error({ err }, 'supervisor operation failed'));
    return next;
  }

  async #startChild(rec: ChildRecord): Promise<void> {
    const instance = rec.spec.create();
    rec.instance = instance;
    rec.status = 'starting';
    rec.unwatch = instance.onExit((reason) => this.#childExited(rec, instance, reason));
    try {
      await instance.start();
    } catch (err) {
      rec.unwatch();
      rec.instance = undefined;
      rec.status = 'crashed';
      throw err;
    }
    if (this.#state !== 'running') {
      // The supervisor began stopping while this child was starting: do not leave it behind.
      await this.#stopRecords([rec]);
      return;
    }
    if (rec.instance === instance) {
      rec.status = 'running';
      rec.startedAt = this.#clock.now();
      this.#onEvent({ type: 'started', supervisor: this.id, child: rec.spec.id });
    }
  }

  async #stopRecords(records: ChildRecord[]): Promise<void> {
    for (const rec of records) {
      const instance = rec.instance;
      if (!instance) continue;
      rec.unwatch?.();
      rec.instance = undefined;
      rec.status = 'stopping';
      const limit = rec.spec.shutdownMs ?? DEFAULT_SHUTDOWN_MS;
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      const timedOut = new Promise<'timeout'>((res) => {
        timer = this.#clock.setTimeout(() => res('timeout'), limit);
      });
      const outcome = await Promise.race([instance.stop().then(() => 'stopped' as const, () => 'stopped' as const), timedOut]);
      if (timer) this.#clock.clearTimeout(timer);
      if (outcome === 'timeout') {
        instance.kill?.();
        rec.status = 'abandoned';
        this.#log.error({ child: rec.spec.id, shutdownMs: limit }, 'child did not stop in time and was abandoned');
        this.#onEvent({ type: 'abandoned', supervisor: this.id, child: rec.spec.id, afterMs: limit });
      } else {
        rec.status = 'stopped';
      }
    }
  }

  #childExited(rec: ChildRecord, instance: Supervisable, reason: ExitReason): void {
    void this.#enqueue(async () => {
      if (rec.instance !== instance || this.#state !== 'running') return;
      rec.unwatch?.();
      rec.instance = undefined;
      rec.status = reason.kind === 'error' ? 'crashed' : 'stopped';
      this.#onEvent({ type: 'exited', supervisor: this.id, child: rec.spec.id, reason });
      if (reason.kind === 'error') this.#log.warn({ child: rec.spec.id, err: reason.error }, 'child failed');
      await this.#applyPolicy(rec, reason);
    });
  }

  async #applyPolicy(rec: ChildRecord, reason: ExitReason): Promise<void> {
    const wantsRestart = rec.restart === 'permanent' || (rec.restart === 'transient' && reason.kind === 'error');
    if (rec.restart === 'temporary') this.#children = this.#children.filter((r) => r !== rec);
    if (!wantsRestart) return;

    const now = this.#clock.now();
    this.#restartTimes = this.#restartTimes.filter((t) => now - t < this.#periodMs);
    this.#restartTimes.push(now);
    if (this.#restartTimes.length > this.#intensity) {
      await this.#escalate(new RestartIntensityError(`${this.id}: more than ${this.#intensity} restarts within ${this.#periodMs} ms (last: ${rec.spec.id})`));
      return;
    }

    const index = this.#children.indexOf(rec);
    const group = this.strategy === 'one_for_one' ? [rec] : this.strategy === 'one_for_all' ? [...this.#children] : this.#children.slice(index);
    await this.#stopRecords(group.filter((r) => r !== rec).reverse());
    // Siblings that were taken down but are temporary do not come back (OTP semantics).
    const restartable = group.filter((r) => r === rec || r.restart !== 'temporary');
    this.#children = this.#children.filter((r) => r === rec || !group.includes(r) || r.restart !== 'temporary');

    rec.consecutive = rec.startedAt !== undefined && now - rec.startedAt >= this.#periodMs ? 1 : rec.consecutive + 1;
    await this.#delay(rec.consecutive);
    if (this.#state !== 'running') return;
    for (const r of restartable) {
      if (this.#state !== 'running') return;
      try {
        r.restarts++;
        await this.#startChild(r);
        this.#onEvent({ type: 'restarted', supervisor: this.id, child: r.spec.id, restarts: r.restarts });
      } catch (err) {
        // A failed restart is one more failure of that child: the same policy applies to it.
        const error = err instanceof Error ? err : new Error(String(err));
        this.#onEvent({ type: 'exited', supervisor: this.id, child: r.spec.id, reason: { kind: 'error', error } });
        await this.#applyPolicy(r, { kind: 'error', error });
        return;
      }
    }
  }

  #delay(n: number): Promise<void> {
    const b = this.#backoff;
    if (!b || b.maxMs <= 0) return Promise.resolve();
    const base = Math.min(b.maxMs, b.minMs * 2 ** Math.max(0, n - 1));
    const ms = Math.max(0, base * (1 + b.jitter * (this.#random() * 2 - 1)));
    return new Promise((res) => this.#clock.setTimeout(res, ms));
  }

  async #escalate(error: RestartIntensityError): Promise<void> {
    this.#log.error({ err: error }, 'restart intensity reached; shutting down and escalating');
    this.#state = 'stopping';
    await this.#stopRecords([...this.#children].reverse());
    this.#state = 'failed';
    this.#onEvent({ type: 'escalated', supervisor: this.id, error });
    this.#exit.emit({ kind: 'error', error });
  }
}
