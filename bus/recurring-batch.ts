/**
 * The same messages, each on its own subject, sent again and again with new numbers
 * (telemetry: one record per actor, ten times a second) — as one protocol write per round.
 * `nc.publish` costs a subject check, a header string and its encoding and a buffer per
 * message, and encoding each record anew more again: together most of what telemetry cost.
 * Here the round's `PUB <subject> <size>` frames, exactly those a publish would write, stay
 * laid out in one buffer; a round rewrites the numbers in place (fixed-shape encoding) and
 * queues a copy behind whatever the connection already holds. Subscribers see ordinary
 * messages, in the order they were set.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { Static, TSchema } from '@sinclair/typebox';
import type { FixedLayout, FixedShapeEncoder } from './fixed-shape.js';

// The client's protocol handler: the one queue every publish goes through. Not part of the
// NatsConnection interface, so it is looked up, and a round falls back to publish without it.
interface ProtocolQueue {
  sendCommand(cmd: Uint8Array): void;
  noMorePublishing?: boolean;
  outMsgs: number;
  outBytes: number;
}

const ascii = new TextEncoder();

/** One recurring message of a batch: `set` it each round it should go out. */
export class RecurringMessage<S extends TSchema> {
  readonly subject: string;
  readonly encoder: FixedShapeEncoder<S>;
  readonly #batch: RecurringBatch;
  /** The value set this round (validated), kept until the round is sent. */
  value: Static<S> | undefined;
  /** Where this message's payload sits in the batch's buffer, and its layout; undefined until laid out. */
  offset = -1;
  layout: FixedLayout | undefined;
  /** The round it was last set in. */
  round = -1;

  constructor(batch: RecurringBatch, subject: string, encoder: FixedShapeEncoder<S>) {
    if (subject.length === 0 || /\s/.test(subject)) throw new TypeError(`Expected a NATS subject without spaces but received ${JSON.stringify(subject)}`);
    this.#batch = batch;
    this.subject = subject;
    this.encoder = encoder;
  }

  /** Validates the value (throws InvalidMessageError naming the field) and puts it in this round. */
  set(value: Static<S>): void {
    const ok = this.encoder.validated(value);
    this.value = ok;
    this.#batch.included(this, this.layout !== undefined && this.encoder.fits(ok, this.layout));
  }
}

/** Recurring messages sent together, one write a round. */
export class RecurringBatch {
  readonly #nc: NatsConnection;
  readonly #queue: ProtocolQueue | undefined;
  // The last round's messages, in the order of the buffer.
  #laidOut: RecurringMessage<TSchema>[] = [];
  #round: RecurringMessage<TSchema>[] = [];
  #buf = new Uint8Array(0);
  #view = new DataView(this.#buf.buffer);
  #payloadBytes = 0;
  #roundId = 0;
  // Same messages in the same order, every string unchanged: the buffer only needs the numbers.
  #reusable = true;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    const q = (nc as unknown as { protocol?: Partial<ProtocolQueue> }).protocol;
    this.#queue = typeof q?.sendCommand === 'function' && typeof q.outMsgs === 'number' ? (q as ProtocolQueue) : undefined;
  }

  /** Whether rounds go out as one write (true with the pinned client) or message by message. */
  get oneWrite(): boolean {
    return this.#queue !== undefined;
  }

  /** A message of this batch on `subject`, encoded by `encoder`. */
  message<S extends TSchema>(subject: string, encoder: FixedShapeEncoder<S>): RecurringMessage<S> {
    return new RecurringMessage(this, subject, encoder);
  }

  /** Called by a message's `set`: joins this round; `fits` when its strings match its layout. */
  included(m: RecurringMessage<TSchema>, fits: boolean): void {
    const i = this.#round.length;
    if (m.round === this.#roundId) throw new Error(`recurring message ${m.subject} set twice in one round`);
    m.round = this.#roundId;
    this.#round.push(m);
    if (this.#reusable && fits && this.#laidOut[i] === m) m.encoder.patch(m.value!, m.layout!, this.#view, m.offset);
    else this.#reusable = false;
  }

  /** Sends this round's messages as one write and starts the next round; returns how many went out. */
  send(): number {
    const round = this.#round;
    this.#round = [];
    this.#roundId++;
    const reusable = this.#reusable && round.length === this.#laidOut.length;
    this.#reusable = true;
    if (round.length === 0) return 0;
    if (this.#nc.isClosed()) throw new Error('cannot publish: the NATS connection is closed');
    if (!this.#queue) {
      for (const m of round) this.#nc.publish(m.subject, m.encoder.layout(m.value!).bytes);
      return round.length;
    }
    if (this.#queue.noMorePublishing) throw new Error('cannot publish: the NATS connection is draining');
    if (!reusable) this.#layOut(round);
    // A copy: the client keeps what it is given until the socket takes it; the buffer is reused.
    this.#queue.sendCommand(this.#buf.slice());
    this.#queue.outMsgs += round.length;
    this.#queue.outBytes += this.#payloadBytes;
    return round.length;
  }

  #layOut(round: RecurringMessage<TSchema>[]): void {
    const parts: Uint8Array[] = [];
    let size = 0;
    this.#payloadBytes = 0;
    for (const m of round) {
      m.layout = m.encoder.layout(m.value!);
      const header = ascii.encode(`PUB ${m.subject} ${m.layout.bytes.length}\r\n`);
      m.offset = size + header.length;
      parts.push(header, m.layout.bytes, ascii.encode('\r\n'));
      size += header.length + m.layout.bytes.length + 2;
      this.#payloadBytes += m.layout.bytes.length;
    }
    this.#buf = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      this.#buf.set(p, at);
      at += p.length;
    }
    this.#view = new DataView(this.#buf.buffer);
    this.#laidOut = round;
  }
}
