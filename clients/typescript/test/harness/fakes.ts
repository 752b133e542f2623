// Stand-ins for fetch and EventSource, for the unit tests of the mapping
// and of the routes the server does not serve yet.
import type { FetchLike } from "../../src/index.js";

/** A request the fake fetch saw. */
export interface SeenRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch answering each request with respond's Response, recording what it saw. */
export function fakeFetch(respond: (req: SeenRequest, signal: AbortSignal | undefined) => Response | Promise<Response>): FetchLike & { seen: SeenRequest[] } {
  const seen: SeenRequest[] = [];
  const f = async (input: string, init: RequestInit) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    const req: SeenRequest = {
      url: input,
      method: init.method ?? "GET",
      headers,
      body: typeof init.body === "string" ? JSON.parse(init.body) : undefined,
    };
    seen.push(req);
    return respond(req, init.signal ?? undefined);
  };
  return Object.assign(f, { seen });
}

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}

/** A promise that settles only when signal aborts, as a silent server's fetch does. */
export function hang(signal: AbortSignal | undefined): Promise<Response> {
  return new Promise((_, reject) => {
    signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** A text/event-stream response whose body is fed by the returned push and end. */
export function eventStream(): { response: Response; push(text: string): void; end(): void } {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  return {
    response: new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } }),
    push: (text) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  };
}

/** A stand-in EventSource the test drives: instances are recorded in FakeEventSource.instances. */
export class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readyState = 0;
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  readonly #listeners = new Map<string, Array<(event: MessageEvent) => void>>();

  constructor(readonly url: string) {
    FakeEventSource.instances.push(this);
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  /** Delivers an event as the server would send it. */
  emit(type: string, data: string, id = ""): void {
    this.readyState = 1;
    for (const l of this.#listeners.get(type) ?? []) l(new MessageEvent(type, { data, lastEventId: id }));
  }

  /** Fails the connection; closed means the browser gave up for good. */
  fail(closed: boolean): void {
    this.readyState = closed ? 2 : 0;
    this.onerror?.(new Event("error"));
  }
}
