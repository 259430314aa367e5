/** Actor kinds a node can host, by name. Each actor folder registers its own factory. */
import type { Bus } from '../bus/bus.js';
import type { ActorBehavior } from './actor.js';
import type { Logger } from './log.js';

/** What a factory gets to build one incarnation's behaviour. */
export interface ActorFactoryContext {
  name: string;
  node: string;
  options: Record<string, unknown>;
  bus: Bus;
  log: Logger;
  /**
   * On a cluster node, false after the process was paused longer than the coordinator lease
   * and until it has re-read its orders: a placed actor must not publish meanwhile.
   */
  mayAct?: () => boolean;
  /** Set when this start is a planned move from that node: take over its state without a gap. */
  handoverFrom?: string;
  /**
   * On a cluster node, when the order that placed this incarnation here was written (the
   * coordinator's site clock, ns): later for every placement, so it tells an incarnation from
   * one it replaced that has not yet stopped.
   */
  placedNs?: bigint;
}

export type ActorFactory = (ctx: ActorFactoryContext) => ActorBehavior<unknown>;

/** Kind name → factory. */
export class ActorRegistry {
  #kinds = new Map<string, ActorFactory>();
  #handover = new Set<string>();
  /** `handover`: the kind can take over a running incarnation's state without a gap (see ActorFactoryContext.handoverFrom). */
  register(kind: string, factory: ActorFactory, capabilities: { handover?: boolean } = {}): this {
    if (this.#kinds.has(kind)) throw new RangeError(`actor kind "${kind}" is registered twice`);
    this.#kinds.set(kind, factory);
    if (capabilities.handover) this.#handover.add(kind);
    return this;
  }
  /** True when planned moves of this kind are handed over (the old incarnation waits for the new one). */
  handsOver(kind: string): boolean {
    return this.#handover.has(kind);
  }
  get(kind: string): ActorFactory | undefined {
    return this.#kinds.get(kind);
  }
  kinds(): string[] {
    return [...this.#kinds.keys()].sort();
  }
}
