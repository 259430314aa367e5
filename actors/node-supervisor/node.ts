/**
 * The node-supervisor: one per process. It hosts the node's actor tree from configuration,
 * answers control requests and publishes telemetry. Its tree:
 *   node (one_for_one) ─┬─ telemetry
 *                       ├─ ctl
 *                       └─ actors (strategy from config) ─ the configured actors, in order
 */
import type { Bus } from '../../bus/bus.js';
import { Actor, type ActorBehavior, ActorStats } from '../../supervisors/actor.js';
import type { ChildSpec, ExitReason } from '../../supervisors/child.js';
import { type Clock, realClock } from '../../supervisors/clock.js';
import { type Logger, silentLogger } from '../../supervisors/log.js';
import type { ActorRegistry } from '../../supervisors/registry.js';
import { type ChildInfo, Supervisor, type SupervisorEvent } from '../../supervisors/supervisor.js';
import type { ActorConfig, NodeConfig } from './config.js';
import { ConfigError } from './config.js';
import { ctlBehavior, type NodeControl } from './ctl.js';
import { telemetryBehavior } from './telemetry.js';
import { type AssignedActors, assignmentsBehavior } from './assignments.js';
import { coordinatorBehavior } from './coordinator.js';
import { membershipBehavior } from './membership.js';
import { pulseBehavior } from './pulse.js';
import { nativeInfo } from '../../kernels/native.js';
import { PauseFence } from '../../supervisors/pause-fence.js';
import type { ActorView } from './view.js';

export interface NodeSupervisorOptions {
  config: NodeConfig;
  bus: Bus;
  registry: ActorRegistry;
  log?: Logger;
  clock?: Clock;
  /** Called when a `stop` request arrives or the tree fails beyond repair. */
  onStopRequested?: (reason: 'ctl' | 'failed') => void;
  onEvent?: (event: SupervisorEvent) => void;
}

/** Hosts one node's actors. */
export class NodeSupervisor {
  readonly name: string;
  readonly root: Supervisor;
  #stats = new Map<string, ActorStats>();
  #bus: Bus;
  #assigned: Supervisor | undefined;
  #actors: Supervisor | undefined;
  #actorSpecs: ChildSpec[];
  #registry: ActorRegistry;
  #fence: PauseFence | undefined;
  #recheck: (() => void) | undefined;
  #clock: Clock;
  #log: Logger;

  constructor(options: NodeSupervisorOptions) {
    const { config, bus, registry } = options;
    this.name = config.name;
    this.#bus = bus;
    this.#registry = registry;
    this.#clock = options.clock ?? realClock;
    this.#log = (options.log ?? silentLogger).child({ node: config.name });
    const onEvent = (e: SupervisorEvent) => {
      options.onEvent?.(e);
      if (e.type === 'restarted' || e.type === 'abandoned' || e.type === 'escalated') this.#log.info(e, `supervisor: ${e.type}`);
    };
    for (const name of ['telemetry', 'ctl']) {
      if (config.actors.some((a) => a.name === name)) throw new ConfigError(`actors: the name "${name}" is reserved for the node's own actor`);
    }
    const actorSpecs = (this.#actorSpecs = config.actors.map((a) => this.#specFor(a, bus, registry)));
    const sup = config.supervision;
    const control: NodeControl = {
      node: config.name,
      allowFaultInjection: config.allow_fault_injection,
      list: () => this.list(),
      has: (actor) => this.#find(actor) !== undefined,
      restart: (actor) => this.#find(actor)!.supervisor.restartChild(actor),
      crash: (actor) => {
        const inst = this.#find(actor)?.info.instance;
        if (inst instanceof Actor) inst.crash();
      },
      requestStop: () => options.onStopRequested?.('ctl'),
    };
    const node = config.name;
    const cluster = config.cluster;
    const clusterSpecs: ChildSpec[] = [];
    if (cluster) {
      for (const name of ['membership', 'coordinator', 'assignments', 'assigned', 'pulse']) {
        if (config.actors.some((a) => a.name === name) || cluster.actors.some((a) => a.name === name)) throw new ConfigError(`actors: the name "${name}" is reserved for the node's own actor`);
      }
      // Unknown kinds in the plan are refused here, before any node runs them.
      for (const a of cluster.actors) this.#specFor(a, bus, registry);
      const gpu = nativeInfo().cuda ? 'cuda' : null;
      this.#fence = new PauseFence(cluster.lease_ms, () => {
        this.#log.warn({ limitMs: cluster.lease_ms }, 'node: the process was paused longer than the lease; placed actors hold their output until the orders are re-read');
        this.#recheck?.();
      });
      const host: AssignedActors = {
        fence: { confirm: () => this.#fence?.confirm(), onPause: (fn) => (this.#recheck = fn) },
        start: (spec, handoverFrom, placedNs) => this.#assigned!.startChild(this.#specFor(spec, bus, registry, handoverFrom, placedNs)),
        stop: (name) => this.#assigned!.terminateChild(name),
        running: () => this.#assigned?.children().map((c) => c.id) ?? [],
      };
      clusterSpecs.push(
        this.#own('membership', 'membership', bus, () => membershipBehavior(node, { intervalMs: cluster.heartbeat_ms, missed: cluster.missed, cameras: cluster.cameras, coordinator: cluster.coordinator, gpu, replicas: cluster.replicas }, () => this.list())),
        {
          id: 'assigned',
          kind: 'supervisor',
          restart: 'permanent',
          shutdownMs: 30_000,
          create: () => (this.#assigned = new Supervisor('assigned', [], { strategy: 'one_for_one', intensity: sup.intensity, periodMs: sup.period_ms, clock: this.#clock, log: this.#log, onEvent })),
        },
        this.#own('assignments', 'assignments', bus, () => assignmentsBehavior(node, host, cluster.replicas)),
      );
      if (cluster.actors.some((a) => a.liveness)) clusterSpecs.push(this.#own('pulse', 'pulse', bus, () => pulseBehavior(node, cluster.actors, () => this.list())));
      if (cluster.coordinator) clusterSpecs.push(this.#own('coordinator', 'coordinator', bus, () => coordinatorBehavior(node, { leaseMs: cluster.lease_ms, heartbeatMs: cluster.heartbeat_ms, missed: cluster.missed, strategy: cluster.strategy, plan: cluster.actors.map((a) => ({ ...a, handover: registry.handsOver(a.kind) })), replicas: cluster.replicas, rebalanceMs: cluster.rebalance_ms, overloadShare: cluster.overload_share })));
    }
    this.root = new Supervisor(
      'node',
      [
        this.#own('telemetry', 'telemetry', bus, () => telemetryBehavior(node, config.telemetry.rate_hz, () => this.list())),
        this.#own('ctl', 'ctl', bus, () => ctlBehavior(control)),
        ...clusterSpecs,
        {
          id: 'actors',
          kind: 'supervisor',
          restart: 'permanent',
          shutdownMs: 30_000,
          create: () =>
            (this.#actors = new Supervisor('actors', actorSpecs, {
              strategy: sup.strategy,
              intensity: sup.intensity,
              periodMs: sup.period_ms,
              backoff: sup.backoff ? { minMs: sup.backoff.min_ms, maxMs: sup.backoff.max_ms, jitter: sup.backoff.jitter } : undefined,
              clock: this.#clock,
              log: this.#log,
              onEvent,
            })),
        },
      ],
      { strategy: 'one_for_one', intensity: sup.intensity, periodMs: sup.period_ms, clock: this.#clock, log: this.#log, onEvent },
    );
    this.root.onExit((reason: ExitReason) => {
      this.#log.error({ reason: reason.kind === 'error' ? reason.error.message : reason.kind }, 'node supervisor failed');
      options.onStopRequested?.('failed');
    });
  }

  /** Starts the tree; resolves once every subscription its actors made is known to the server. */
  async start(): Promise<void> {
    await this.root.start();
    // A request from another connection right after start must find the responders.
    await this.#bus.nc.flush();
  }

  /** Adds actors to the configured ones of a started node, in order (a run's sources start once its stages are up). */
  async startActors(actors: readonly ActorConfig[]): Promise<void> {
    if (!this.#actors) throw new Error('node: startActors before start');
    for (const a of actors) {
      if (this.#find(a.name)) throw new ConfigError(`actors: the name "${a.name}" is taken on node ${this.name}`);
      const spec = this.#specFor(a, this.#bus, this.#registry);
      await this.#actors.startChild(spec);
      // Kept with the configured ones: if the actors' supervisor is itself restarted, these come back too.
      this.#actorSpecs.push(spec);
    }
    await this.#bus.nc.flush();
  }

  async stop(): Promise<void> {
    await this.root.stop();
    this.#fence?.close();
  }

  /** Every actor on the node (not supervisors), in tree order. */
  list(): ActorView[] {
    const out: ActorView[] = [];
    const now = this.#clock.now();
    const walk = (sup: Supervisor) => {
      for (const c of sup.children()) {
        if (c.instance instanceof Supervisor) walk(c.instance);
        else if (c.kind !== 'supervisor') out.push(this.#view(c, now));
      }
    };
    walk(this.root);
    return out;
  }

  #view(c: ChildInfo, now: number): ActorView {
    const inst = c.instance instanceof Actor ? c.instance : undefined;
    return {
      name: c.id,
      kind: c.kind,
      status: c.status,
      restarts: c.restarts,
      uptimeS: c.status === 'running' && c.startedAt !== undefined ? Math.max(0, (now - c.startedAt) / 1000) : 0,
      mailboxDepth: inst?.mailboxDepth ?? 0,
      stats: this.#stats.get(c.id),
    };
  }

  #find(actor: string): { supervisor: Supervisor; info: ChildInfo } | undefined {
    const search = (sup: Supervisor): { supervisor: Supervisor; info: ChildInfo } | undefined => {
      for (const c of sup.children()) {
        if (c.id === actor && c.kind !== 'supervisor') return { supervisor: sup, info: c };
        if (c.instance instanceof Supervisor) {
          const found = search(c.instance);
          if (found) return found;
        }
      }
      return undefined;
    };
    return search(this.root);
  }

  #statsFor(name: string): ActorStats {
    let s = this.#stats.get(name);
    if (!s) this.#stats.set(name, (s = new ActorStats()));
    return s;
  }

  #own(name: string, kind: string, bus: Bus, behavior: () => ActorBehavior<any>): ChildSpec {
    return {
      id: name,
      kind,
      restart: 'permanent',
      shutdownMs: 5000,
      create: () => makeActor({ name, kind, behavior: behavior(), bus, log: this.#log, clock: this.#clock, stats: this.#statsFor(name) }),
    };
  }

  #specFor(a: ActorConfig, bus: Bus, registry: ActorRegistry, handoverFrom?: string, placedNs?: bigint): ChildSpec {
    const factory = registry.get(a.kind);
    if (!factory) throw new ConfigError(`actors: kind "${a.kind}" of actor "${a.name}" is not known; known kinds: ${registry.kinds().join(', ') || '(none)'}`);
    return {
      id: a.name,
      kind: a.kind,
      restart: a.restart ?? 'permanent',
      shutdownMs: a.shutdown_ms ?? 5000,
      create: () =>
        makeActor({
          name: a.name,
          kind: a.kind,
          behavior: factory({ name: a.name, node: this.name, options: a.options ?? {}, bus, log: this.#log.child({ actor: a.name }), mayAct: () => this.#fence?.open ?? true, handoverFrom, placedNs }),
          mailbox: a.mailbox,
          bus,
          log: this.#log,
          clock: this.#clock,
          stats: this.#statsFor(a.name),
        }),
    };
  }
}

function makeActor(options: ConstructorParameters<typeof Actor<any>>[0]): Actor<any> {
  return new Actor(options);
}
