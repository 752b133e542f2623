// The browser-safe side: a shop's public availability, without a token.
import { InventoryUnavailableError } from "./errors.js";
import type { AvailabilityItem } from "./types.js";
import { streamEvents, type SubscribeOptions, type Subscription } from "./sse.js";
import { Transport, segment, type FetchLike, type RequestOptions } from "./transport.js";

/** The EventSource constructor, as browsers have it. */
export type EventSourceConstructor = new (url: string) => EventSourceLike;

/** The part of EventSource subscribeAvailability uses. */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEvent) => void): void;
  onerror: ((event: Event) => void) | null;
  close(): void;
}

/** Options of a PublicAvailabilityClient. */
export interface PublicAvailabilityOptions {
  /** The checkoutd server's URL, e.g. "https://inventory.example.com". */
  baseUrl: string;
  /** Milliseconds each availability() call may take; default 5000. */
  timeout?: number;
  /** The fetch to call; default the global one. */
  fetch?: FetchLike;
  /**
   * The EventSource to stream with; default the global one where there is
   * one. `null` streams over fetch instead, as where there is none.
   */
  EventSource?: EventSourceConstructor | null;
}

/** `EventSource.CLOSED`: the browser gave up and will not reconnect. */
const EVENTSOURCE_CLOSED = 2;

/**
 * Reads a shop's public availability, from a browser or anywhere else: no
 * token, only shops that turned `publicAvailability` on (any other answers
 * 404 `not_found`, an InventoryAPIError).
 */
export class PublicAvailabilityClient {
  readonly #transport: Transport;
  readonly #EventSource: EventSourceConstructor | undefined;

  constructor(options: PublicAvailabilityOptions) {
    this.#transport = new Transport(options.baseUrl, undefined, options.timeout, options.fetch);
    const global = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    this.#EventSource = options.EventSource === null ? undefined : options.EventSource ?? global;
  }

  /**
   * The availability of every known variant line of skus (1 to 50), ordered
   * by sku then variantKey; unknown SKUs are simply absent. Browsers revalidate
   * with the response's ETag on their own.
   */
  async availability(shopId: string, skus: readonly string[], options?: RequestOptions): Promise<AvailabilityItem[]> {
    const res = await this.#transport.json<{ items: AvailabilityItem[] }>(
      { method: "GET", path: availabilityPath(shopId), query: skuQuery(skus), authenticated: false },
      options,
    );
    return res.data.items;
  }

  /**
   * Calls onChange with every line of skus now, then again on each change,
   * until `close()`. Uses EventSource where the runtime has one, else a
   * fetch stream; both reconnect by themselves and resume with
   * Last-Event-ID.
   */
  subscribeAvailability(
    shopId: string,
    skus: readonly string[],
    onChange: (item: AvailabilityItem) => void,
    options: SubscribeOptions = {},
  ): Subscription {
    const path = availabilityPath(shopId) + "/stream";
    const query = skuQuery(skus);
    if (!this.#EventSource) {
      return streamEvents(this.#transport, { path, query, authenticated: false, event: "stock" }, onChange, options);
    }
    const es = new this.#EventSource(this.#transport.url(path, query));
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      es.close();
      options.signal?.removeEventListener("abort", close);
    };
    es.addEventListener("stock", (event) => {
      if (closed) return;
      let item: AvailabilityItem;
      try {
        item = JSON.parse(String(event.data)) as AvailabilityItem;
      } catch (err) {
        options.onError?.(new InventoryUnavailableError("stream event is not JSON", { cause: err }));
        return;
      }
      try {
        onChange(item);
      } catch (err) {
        options.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    });
    es.onerror = () => {
      if (closed) return;
      if (es.readyState !== EVENTSOURCE_CLOSED) {
        options.onError?.(new InventoryUnavailableError("the availability stream broke; reconnecting"));
        return;
      }
      // EventSource hides the status it gave up on; one plain request tells
      // a 404 (not public) from an outage.
      close();
      this.availability(shopId, skus).then(
        () => options.onError?.(new InventoryUnavailableError("the availability stream closed")),
        (err: Error) => options.onError?.(err),
      );
    };
    if (options.signal?.aborted) close();
    else options.signal?.addEventListener("abort", close, { once: true });
    return {
      close,
      get closed() {
        return closed;
      },
    };
  }
}

function availabilityPath(shopId: string): string {
  return `/api/public/shops/${segment("shopId", shopId)}/availability`;
}

function skuQuery(skus: readonly string[]): URLSearchParams {
  if (!Array.isArray(skus) || skus.length === 0) throw new TypeError("@checkoutd/client: skus is empty");
  const q = new URLSearchParams();
  for (const sku of skus) q.append("sku", sku);
  return q;
}
