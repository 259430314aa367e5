/** The contract between a supervisor and what it supervises (an actor or another supervisor). */

/** Why a child ended: finished its work, was shut down, or failed. */
export type ExitReason = { kind: 'normal' } | { kind: 'shutdown' } | { kind: 'error'; error: Error };

export const RESTART_TYPES = ['permanent', 'transient', 'temporary'] as const;
/** permanent: always restarted; transient: only after an error; temporary: never. */
export type RestartType = (typeof RESTART_TYPES)[number];

/** Something a supervisor can start, stop and watch. */
export interface Supervisable {
  readonly id: string;
  /** Starts; rejects when the child could not start. */
  start(): Promise<void>;
  /** Orderly stop; resolves when stopped. */
  stop(): Promise<void>;
  /** Called after `stop` timed out: release what can be released, now. */
  kill?(): void;
  /** Registers a listener for exits the supervisor did not ask for; returns an unsubscribe. */
  onExit(listener: (reason: ExitReason) => void): () => void;
}

/** How to create a child and how to treat it. */
export interface ChildSpec {
  id: string;
  kind: string;
  /** Makes a fresh instance: every restart starts from clean state. */
  create: () => Supervisable;
  restart?: RestartType;
  /** How long `stop` may take before the child is abandoned (ms). */
  shutdownMs?: number;
}

/** Small listener set shared by actors and supervisors. */
export class ExitSignal {
  #listeners = new Set<(reason: ExitReason) => void>();
  on(listener: (reason: ExitReason) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  emit(reason: ExitReason): void {
    for (const l of [...this.#listeners]) l(reason);
  }
}
