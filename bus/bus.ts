/**
 * Typed publish / subscribe / request over NATS. Everything received is decoded and validated
 * at the boundary; what fails is counted, logged once per reason and copied to the dead-letter
 * subject with its reason and original bytes. Handlers never see an invalid message.
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { TSchema, Static } from '@sinclair/typebox';
import { DeadLetter } from '../schemas/dead-letter.js';
import { InvalidMessageError, type MessageType, validate } from '../schemas/message.js';
import { nowNs } from '../supervisors/clock.js';
import { type Logger, silentLogger } from '../supervisors/log.js';
import { decode, DecodeError, encode } from './codec.js';
import { RecurringBatch } from './recurring-batch.js';
import { type Subjects, subjectsFor } from './subjects.js';

/** Counters of what a bus refused, by reason. */
export interface BoundaryStats {
  invalid: number;
  byReason: Map<string, number>;
}

export interface BusOptions {
  prefix?: string;
  /** Who refuses a message, written into dead letters (e.g. "node-a/tracker"). */
  receiver: string;
  log?: Logger;
}

/** Told of each message a bus's subscriptions receive and each it publishes, by subject. */
export interface BusTraffic {
  received(subject: string): void;
  sent(subject: string): void;
}

declare const validated: unique symbol;
/** A message validated against its type and encoded once, to go out on several subjects. */
export interface EncodedMessage {
  readonly bytes: Uint8Array;
  readonly [validated]: true;
}

/** Request timed out or had no responder. */
export class RequestFailedError extends Error {
  override name = 'RequestFailedError';
}

// Dead letters carry the original bytes; past this size only the head is kept, and said so.
const DEAD_LETTER_MAX_BYTES = 4 * 1024 * 1024;

/** A typed view of one NATS connection, scoped to a prefix and a receiver name. */
export class Bus {
  readonly nc: NatsConnection;
  readonly subjects: Subjects;
  readonly receiver: string;
  readonly stats: BoundaryStats = { invalid: 0, byReason: new Map() };
  #log: Logger;
  #onInvalid?: () => void;
  #traffic?: BusTraffic;

  constructor(nc: NatsConnection, options: BusOptions) {
    this.nc = nc;
    this.subjects = subjectsFor(options.prefix);
    this.receiver = options.receiver;
    this.#log = options.log ?? silentLogger;
  }

  /** A bus on the same connection that reports refusals as another receiver (one per actor), and its traffic to `traffic`. */
  forReceiver(receiver: string, log?: Logger, onInvalid?: () => void, traffic?: BusTraffic): Bus {
    const bus = new Bus(this.nc, { prefix: this.subjects.prefix, receiver, log: log ?? this.#log });
    bus.#onInvalid = onInvalid;
    bus.#traffic = traffic;
    return bus;
  }

  /** Validates and publishes; throws InvalidMessageError rather than send a bad message. */
  publish<S extends TSchema>(type: MessageType<S>, subject: string, value: Static<S>): void {
    this.publishEncoded(subject, this.encode(type, value));
  }

  /** Validates and encodes a message once, for publishing it on more than one subject. */
  encode<S extends TSchema>(type: MessageType<S>, value: Static<S>): EncodedMessage {
    validate(type, value);
    return { bytes: encode(value) } as EncodedMessage;
  }

  /** Messages sent again and again with new numbers, each on its own subject, one write a round. */
  recurring(): RecurringBatch {
    return new RecurringBatch(this.nc);
  }

  /** Publishes a message `encode` validated. */
  publishEncoded(subject: string, message: EncodedMessage): void {
    this.nc.publish(subject, message.bytes);
    this.#traffic?.sent(subject);
  }

  /** Decodes and validates a payload; returns undefined (after dead-lettering) if it is refused. */
  receive<S extends TSchema>(type: MessageType<S>, msg: Pick<Msg, 'subject' | 'data'>): Static<S> | undefined {
    let reason: string;
    try {
      return validate(type, decode(msg.data));
    } catch (err) {
      if (!(err instanceof DecodeError || err instanceof InvalidMessageError)) throw err;
      reason = err.message;
    }
    this.deadLetter(msg.subject, reason, msg.data);
    return undefined;
  }

  /** Subscribes with validation; `handler` gets only valid, typed messages. */
  subscribe<S extends TSchema>(
    type: MessageType<S>,
    subject: string,
    handler: (value: Static<S>, msg: Msg) => void,
    options: { queue?: string } = {},
  ): Subscription {
    return this.nc.subscribe(subject, {
      queue: options.queue,
      callback: (err, msg) => {
        if (err) {
          this.#log.error({ err, subject }, 'subscription error');
          return;
        }
        // Before validation: an invalid message still shows that input flows.
        this.#traffic?.received(msg.subject);
        const value = this.receive(type, msg);
        if (value !== undefined) handler(value, msg);
      },
    });
  }

  /** Sends a typed request and validates the typed reply. */
  async request<Q extends TSchema, R extends TSchema>(
    reqType: MessageType<Q>,
    repType: MessageType<R>,
    subject: string,
    value: Static<Q>,
    timeoutMs = 2000,
  ): Promise<Static<R>> {
    validate(reqType, value);
    let reply: Msg;
    try {
      reply = await this.nc.request(subject, encode(value), { timeout: timeoutMs });
    } catch (err) {
      throw new RequestFailedError(`request to ${subject} failed: ${(err as Error).message}`, { cause: err });
    }
    return validate(repType, decode(reply.data));
  }

  /**
   * Answers requests on `subject`. An invalid request is dead-lettered and, when it has a
   * reply subject, answered with `onInvalid(reason)` so the caller is not left waiting.
   */
  serve<Q extends TSchema, R extends TSchema>(
    reqType: MessageType<Q>,
    repType: MessageType<R>,
    subject: string,
    handler: (value: Static<Q>) => Promise<Static<R>> | Static<R>,
    onInvalid: (reason: string) => Static<R>,
  ): Subscription {
    return this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        let request: Static<Q>;
        try {
          request = validate(reqType, decode(msg.data));
        } catch (e) {
          const reason = (e as Error).message;
          this.deadLetter(msg.subject, reason, msg.data);
          if (msg.reply) msg.respond(encode(validate(repType, onInvalid(reason))));
          return;
        }
        void Promise.resolve()
          .then(() => handler(request))
          .then((answer) => {
            if (msg.reply) msg.respond(encode(validate(repType, answer)));
          })
          .catch((e: unknown) => this.#log.error({ err: e, subject }, 'request handler failed'));
      },
    });
  }

  /** Counts, logs once per reason, and republishes a refused message to the dead-letter subject. */
  deadLetter(subject: string, reason: string, bytes: Uint8Array): void {
    this.stats.invalid++;
    this.#onInvalid?.();
    const seen = this.stats.byReason.get(reason) ?? 0;
    this.stats.byReason.set(reason, seen + 1);
    if (seen === 0) this.#log.warn({ subject, reason, receiver: this.receiver }, 'message refused and dead-lettered');
    let kept = bytes;
    let why = reason;
    if (bytes.byteLength > DEAD_LETTER_MAX_BYTES) {
      kept = bytes.subarray(0, DEAD_LETTER_MAX_BYTES);
      why = `${reason} (payload of ${bytes.byteLength} bytes truncated to ${DEAD_LETTER_MAX_BYTES})`;
    }
    if (this.nc.isClosed()) return;
    this.nc.publish(
      this.subjects.dead,
      encode({ t_ns: nowNs(), subject, reason: why, receiver: this.receiver, bytes: kept } satisfies Static<typeof DeadLetter.schema>),
    );
  }
}
