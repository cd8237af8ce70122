import { EventEmitter } from 'node:events';

/**
 * Cancels one proxied request when its client goes away. undici accepts an EventEmitter as
 * `signal`; an AbortController costs several microseconds per request on Node 20, so the real
 * AbortSignal is only made when a stage asks for it.
 */
export class RequestAbort extends EventEmitter {
  #aborted = false;
  #controller: AbortController | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** A standard AbortSignal for stages (created on first use). */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#aborted) this.#controller.abort();
    return this.#controller.signal;
  }

  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#controller?.abort();
    this.emit('abort');
  }
}
