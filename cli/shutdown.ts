/**
 * Orderly shutdown for long-running commands: the first SIGINT/SIGTERM (or a stop request)
 * runs the cleanups in reverse order of registration; a second signal exits at once (the
 * guarded child processes are still killed by their exit hook and watchdogs).
 */
import type { Logger } from '../supervisors/log.js';

export class Shutdown {
  #cleanups: { name: string; fn: () => Promise<void> | void }[] = [];
  #requested: Promise<string>;
  #resolve!: (reason: string) => void;
  #signals = 0;
  #log: Logger;
  #handler = (signal: NodeJS.Signals) => {
    this.#signals++;
    if (this.#signals > 1) {
      this.#log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    this.#resolve(signal);
  };

  constructor(log: Logger) {
    this.#log = log;
    this.#requested = new Promise((res) => (this.#resolve = res));
    process.on('SIGINT', this.#handler);
    process.on('SIGTERM', this.#handler);
  }

  /** Registers a cleanup; cleanups run last-registered first. */
  add(name: string, fn: () => Promise<void> | void): void {
    this.#cleanups.push({ name, fn });
  }

  /** Asks for shutdown without a signal (a `stop` request, an elapsed --duration, a failure). */
  request(reason: string): void {
    this.#resolve(reason);
  }

  /** Resolves with the reason once shutdown is requested. */
  get requested(): Promise<string> {
    return this.#requested;
  }

  /** Runs every cleanup (each bounded by `timeoutMs`), then removes the signal handlers. */
  async run(timeoutMs = 15_000): Promise<void> {
    for (const { name, fn } of this.#cleanups.splice(0).reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(fn),
          new Promise((_, rej) => {
            timer = setTimeout(() => rej(new Error(`${name} did not finish within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } catch (err) {
        this.#log.error({ err, step: name }, 'shutdown step failed');
      } finally {
        clearTimeout(timer);
      }
    }
    process.off('SIGINT', this.#handler);
    process.off('SIGTERM', this.#handler);
  }
}
