// Server-sent events over fetch, for runtimes without EventSource (Workers,
// Node before 22) and for the authenticated stream, whose token EventSource
// cannot send. Parses the text/event-stream format as the HTML standard
// defines it and reconnects with Last-Event-ID like EventSource does.
import { InventoryAPIError, InventoryUnavailableError } from "./errors.js";
import { errorFor, type Transport } from "./transport.js";

/** One dispatched event. */
export interface SSEMessage {
  event: string;
  data: string;
  id: string;
}

/** Turns text/event-stream chunks into messages. */
export class SSEParser {
  /** The last `id:` seen, sent back as Last-Event-ID on reconnect. */
  lastEventId = "";
  /** The last `retry:` seen, in milliseconds. */
  retry: number | undefined;
  #buffer = "";
  #data: string[] = [];
  #event = "";

  /** Feeds a decoded chunk; calls onMessage for each event it completes. */
  feed(chunk: string, onMessage: (m: SSEMessage) => void): void {
    this.#buffer += chunk;
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.#buffer);
      if (!m) return;
      // A CR at the very end may be the first half of a CRLF split across chunks.
      if (m[0] === "\r" && m.index === this.#buffer.length - 1) return;
      const line = this.#buffer.slice(0, m.index);
      this.#buffer = this.#buffer.slice(m.index + m[0].length);
      this.#line(line, onMessage);
    }
  }

  #line(line: string, onMessage: (m: SSEMessage) => void): void {
    if (line === "") {
      if (this.#data.length > 0) {
        onMessage({ event: this.#event || "message", data: this.#data.join("\n"), id: this.lastEventId });
      }
      this.#data = [];
      this.#event = "";
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.#event = value;
        break;
      case "data":
        this.#data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
    }
  }
}

/** A live subscription; `close()` ends it for good. */
export interface Subscription {
  close(): void;
  readonly closed: boolean;
}

/** Options of the subscribe methods. */
export interface SubscribeOptions {
  /**
   * Told of every failure: a lost connection (the subscription reconnects
   * by itself), or a refusal that ends it (404 for a shop that is unknown or
   * not public, 401 for a wrong token), after which `closed` is true.
   */
  onError?: (err: Error) => void;
  /** Closes the subscription when it aborts. */
  signal?: AbortSignal;
  /**
   * Reconnects when nothing, not even the server's 15 s heartbeat, arrives
   * for this long. Milliseconds; default 45000.
   */
  idleTimeout?: number;
}

const DEFAULT_RETRY_MS = 3000;
const DEFAULT_IDLE_MS = 45000;

/** What streamEvents needs to know about one stream. */
export interface StreamSpec {
  path: string;
  query?: URLSearchParams;
  authenticated: boolean;
  /** The event type to deliver; others are ignored. */
  event: string;
}

/**
 * Subscribes to a server-sent event stream through fetch, delivering the
 * JSON data of each spec.event to onData, reconnecting after a lost
 * connection or a 5xx or 429, and stopping for good on any other refusal.
 */
export function streamEvents<T>(transport: Transport, spec: StreamSpec, onData: (item: T) => void, options: SubscribeOptions = {}): Subscription {
  const parser = new SSEParser();
  const idleMs = options.idleTimeout ?? DEFAULT_IDLE_MS;
  let closed = false;
  let connection: AbortController | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // Cancelling the reader as well as aborting the request ends a read that
  // a fetch implementation does not tie to the signal.
  const hangUp = () => {
    connection?.abort();
    void reader?.cancel().catch(() => undefined);
  };
  let wake: (() => void) | undefined;

  const report = (err: Error) => {
    if (!closed) options.onError?.(err);
  };
  const close = () => {
    closed = true;
    hangUp();
    wake?.();
    options.signal?.removeEventListener("abort", close);
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const deliver = (m: SSEMessage) => {
    if (m.event !== spec.event || closed) return;
    let item: T;
    try {
      item = JSON.parse(m.data) as T;
    } catch (err) {
      report(new InventoryUnavailableError(`stream event ${m.id ? m.id + " " : ""}is not JSON`, { cause: err }));
      return;
    }
    try {
      onData(item);
    } catch (err) {
      report(err instanceof Error ? err : new Error(String(err)));
    }
  };

  // One connection: resolves with how long to wait before the next, or
  // undefined to stop.
  const connect = async (): Promise<number | undefined> => {
    const controller = new AbortController();
    connection = controller;
    let idle: ReturnType<typeof setTimeout> | undefined;
    let idled = false;
    const idleDetail = `no event or heartbeat for ${idleMs} ms; reconnecting`;
    const resetIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        idled = true;
        hangUp();
      }, idleMs);
    };
    try {
      resetIdle();
      const headers = transport.headers(spec.authenticated, "text/event-stream", false);
      if (parser.lastEventId) headers["Last-Event-ID"] = parser.lastEventId;
      const res = await transport.fetch(transport.url(spec.path, spec.query), {
        method: "GET",
        headers,
        signal: controller.signal,
        redirect: "manual",
      });
      if (res.status !== 200 || !res.body) {
        const text = res.status === 200 ? "" : await res.text();
        const err = res.status === 200
          ? new InventoryUnavailableError("stream response has no body", { status: 200 })
          : errorFor(res, text, res.headers.get("X-Request-Id") ?? undefined);
        report(err);
        if (err instanceof InventoryAPIError) {
          if (err.status === 429) return err.retryAfterMs || (parser.retry ?? DEFAULT_RETRY_MS);
          return undefined;
        }
        return err instanceof InventoryUnavailableError ? parser.retry ?? DEFAULT_RETRY_MS : undefined;
      }
      reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        resetIdle();
        parser.feed(decoder.decode(value, { stream: true }), deliver);
      }
      parser.feed(decoder.decode(), deliver);
      if (closed) return undefined;
      report(new InventoryUnavailableError(idled ? idleDetail : "the stream ended; reconnecting"));
    } catch (err) {
      if (closed) return undefined;
      report(new InventoryUnavailableError(idled ? idleDetail : "the stream broke; reconnecting", { cause: err }));
    } finally {
      clearTimeout(idle);
      reader = undefined;
    }
    return parser.retry ?? DEFAULT_RETRY_MS;
  };

  const run = async () => {
    while (!closed) {
      const wait = await connect();
      if (wait === undefined) break;
      if (!closed) await pause(wait);
    }
    close();
  };

  if (options.signal?.aborted) {
    closed = true;
  } else {
    options.signal?.addEventListener("abort", close, { once: true });
    void run();
  }
  return {
    close,
    get closed() {
      return closed;
    },
  };
}
