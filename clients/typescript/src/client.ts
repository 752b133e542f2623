// The authenticated client: every route of the contract that takes a token.
import { InventoryUnavailableError } from "./errors.js";
import { PageList } from "./paging.js";
import { streamEvents, type SubscribeOptions, type Subscription } from "./sse.js";
import { INVENTORY_PREFIX, Transport, segment, withDeadline, type FetchLike, type RequestOptions } from "./transport.js";
import type {
  AdjustRequest,
  Alert,
  ChangeResult,
  CreateCheckoutSessionRequest,
  CheckoutSession,
  CreateHoldRequest,
  CreateReturnRequest,
  CreateLocationRequest,
  CreateShopRequest,
  Hold,
  Line,
  Location,
  Movement,
  OversoldOrder,
  Page,
  ReceiptRequest,
  Rental,
  Return,
  SetHoldItemsRequest,
  Shop,
  StockEvent,
  StockInfo,
  StockSettings,
  TransferRequest,
  UpdateLocationRequest,
  UpdateShopRequest,
  ValidateResult,
} from "./types.js";

/** Options of an InventoryAuthorityClient. */
export interface InventoryAuthorityClientOptions {
  /**
   * The checkoutd server's URL: its root ("https://inventory.example.com"),
   * possibly under a path prefix, with or without the "/api/inventory" that
   * INVENTORY_AUTHORITY_URL carries in the integration guide.
   */
  baseUrl: string;
  /** The service token (INVENTORY_AUTHORITY_TOKEN) or a shop API key. */
  token: string;
  /** Milliseconds a call may take, to the last byte of the answer; default 5000. */
  timeout?: number;
  /** The fetch to call; default the global one. */
  fetch?: FetchLike;
}

/** Options of listStock. */
export interface ListStockOptions {
  /** Only lines with `lowStock` true. */
  lowStock?: boolean;
  /** Page size. */
  limit?: number;
  /** Where to start: a page's `nextCursor`. */
  cursor?: string | null;
}

/** Options of listMovements. */
export interface ListMovementsOptions {
  /** Only this SKU's movements. */
  sku?: string;
  /** With sku: only this variant's. */
  variantKey?: string;
  limit?: number;
  cursor?: string | null;
}

/** Options of the other lists. */
export interface ListOptions {
  limit?: number;
  cursor?: string | null;
}

/**
 * Calls the inventory authority, checkoutd, from a Cloudflare Worker, a
 * Next.js route (edge or Node) or Node ≥ 18. Make one per process (or
 * per Worker environment) and share it.
 *
 * Every method fails closed: when the answer is unknown it throws
 * InventoryUnavailableError, InventoryTimeoutError or
 * InventoryAuthenticationError (messages exactly as the integration guide
 * spells them), and any refusal is an InventoryAPIError.
 */
export class InventoryAuthorityClient {
  readonly #t: Transport;

  constructor(options: InventoryAuthorityClientOptions) {
    this.#t = new Transport(options.baseUrl, options.token, options.timeout, options.fetch);
  }

  /** The server's root URL this client calls, without /api/inventory. */
  get baseUrl(): string {
    return this.#t.base;
  }

  /**
   * Whether a hold on items could be placed in shopId right now, holding
   * nothing: the check an edge worker makes before letting a checkout
   * through. A shortfall is not an error: `ok` is false and `insufficient`
   * lists the lines. A line the shop never stocked counts as available 0.
   */
  async validate(shopId: string, items: Line[], options?: RequestOptions): Promise<ValidateResult> {
    const res = await this.#t.json<{ ok?: unknown; insufficient?: ValidateResult["insufficient"] }>(
      { method: "POST", path: INVENTORY_PREFIX + "/validate", body: { shopId, items }, authenticated: true },
      options,
    );
    if (typeof res.data.ok !== "boolean") {
      throw new InventoryUnavailableError('validate response has no boolean "ok"', { status: res.status });
    }
    return { ok: res.data.ok, insufficient: res.data.insufficient ?? [] };
  }

  /**
   * Whether the authority is ready: true only when GET /api/inventory/health
   * answers 200 within the timeout. Never throws and sends no token. For
   * dashboards and warnings, not as a gate: a checkout still fails closed on
   * the error of the call it depends on.
   */
  async healthCheck(options?: RequestOptions): Promise<boolean> {
    try {
      return await withDeadline(options?.timeout ?? this.#t.timeout, options?.signal, async (signal) => {
        const res = await this.#t.fetch(this.#t.url(INVENTORY_PREFIX + "/health"), {
          method: "GET",
          headers: { Accept: "application/json" },
          signal,
          redirect: "manual",
        });
        // Read so the connection can be reused.
        await res.text();
        return res.status === 200;
      });
    } catch {
      return false;
    }
  }

  // Stock.

  /** One stock line; a line the shop never stocked or configured is a 404 InventoryAPIError. */
  async getStock(shopId: string, sku: string, variantKey = "", options?: RequestOptions): Promise<StockInfo> {
    return this.#get<StockInfo>(stockPath(shopId, sku), variantQuery(variantKey), options);
  }

  /** The shop's stock lines, a page at a time or, iterated, all of them. */
  listStock(shopId: string, opts: ListStockOptions = {}, options?: RequestOptions): PageList<StockInfo> {
    const path = shopPath(shopId) + "/stock";
    return this.#list<StockInfo>(path, opts.cursor ?? undefined, (q) => {
      if (opts.lowStock) q.set("lowStock", "true");
      if (opts.limit !== undefined) q.set("limit", String(opts.limit));
    }, options);
  }

  /** Changes a line's low-stock threshold, safety stock or backorder limit, and returns the line. */
  async updateStockSettings(shopId: string, sku: string, variantKey: string, settings: StockSettings, options?: RequestOptions): Promise<StockInfo> {
    const path = stockPath(shopId, sku) + "/settings";
    const res = await this.#t.json<StockInfo>({ method: "PUT", path, query: variantQuery(variantKey), body: settings, authenticated: true }, options);
    return res.data;
  }

  // Stock changes: all or nothing, each written to the movement ledger. The
  // same idempotencyKey with the same body returns the first result.

  /**
   * Sets, increments or decrements on-hand stock. A `set` with
   * `expectedOnHand` whose row has another on-hand when it runs fails the
   * whole request with StaleCountError and writes nothing.
   */
  async adjust(shopId: string, req: AdjustRequest, options?: RequestOptions): Promise<ChangeResult> {
    return this.#post<ChangeResult>(shopPath(shopId) + "/adjustments", req, options);
  }

  /** Books a purchase order's arrival (PURCHASE_ORDER movements). */
  async receive(shopId: string, req: ReceiptRequest, options?: RequestOptions): Promise<ChangeResult> {
    return this.#post<ChangeResult>(shopPath(shopId) + "/receipts", req, options);
  }

  /** Moves unreserved stock between two of the shop's locations (a TRANSFER pair per line). */
  async transfer(shopId: string, req: TransferRequest, options?: RequestOptions): Promise<ChangeResult> {
    return this.#post<ChangeResult>(shopPath(shopId) + "/transfers", req, options);
  }

  /** The movement ledger, newest first, a page at a time or, iterated, all of it. */
  listMovements(shopId: string, opts: ListMovementsOptions = {}, options?: RequestOptions): PageList<Movement> {
    return this.#list<Movement>(shopPath(shopId) + "/movements", opts.cursor ?? undefined, (q) => {
      if (opts.sku !== undefined) q.set("sku", opts.sku);
      if (opts.variantKey !== undefined) q.set("variantKey", opts.variantKey);
      if (opts.limit !== undefined) q.set("limit", String(opts.limit));
    }, options);
  }

  // Holds.

  /**
   * Holds every line or none. The same idempotencyKey again returns the same
   * hold. Not enough stock: InsufficientStockError; lock contention:
   * InventoryBusyError with retryAfterMs.
   */
  async createHold(shopId: string, req: CreateHoldRequest, options?: RequestOptions): Promise<Hold> {
    return this.#post<Hold>(shopPath(shopId) + "/holds", req, options);
  }

  /** A hold. */
  async getHold(shopId: string, holdId: string, options?: RequestOptions): Promise<Hold> {
    return this.#get<Hold>(holdPath(shopId, holdId), undefined, options);
  }

  /** Sells a hold's units; committing a committed hold returns it unchanged. */
  async commitHold(shopId: string, holdId: string, req: { reference?: string } = {}, options?: RequestOptions): Promise<Hold> {
    return this.#post<Hold>(holdPath(shopId, holdId) + "/commit", req, options);
  }

  /** Gives a hold's units back; releasing a released hold returns it unchanged. */
  async releaseHold(shopId: string, holdId: string, req: { reason?: string } = {}, options?: RequestOptions): Promise<Hold> {
    return this.#post<Hold>(holdPath(shopId, holdId) + "/release", req, options);
  }

  /** Makes an active hold expire ttlSeconds from now (at most 86400). */
  async extendHold(shopId: string, holdId: string, ttlSeconds: number, options?: RequestOptions): Promise<Hold> {
    return this.#post<Hold>(holdPath(shopId, holdId) + "/extend", { ttlSeconds }, options);
  }

  /**
   * Makes an active hold's lines exactly `req.items`, all or nothing: a
   * cart's hold as the cart changes. Not enough stock: InsufficientStockError
   * (`available` counts what the hold already has), the hold as it was; a
   * hold that is not active: InventoryAPIError `hold_not_active`; one bound
   * to a checkout session: `hold_in_checkout`.
   */
  async setHoldItems(shopId: string, holdId: string, req: SetHoldItemsRequest, options?: RequestOptions): Promise<Hold> {
    return (await this.#t.json<Hold>({ method: "PUT", path: holdPath(shopId, holdId) + "/items", body: req, authenticated: true }, options)).data;
  }

  /**
   * Takes units of a committed hold back, restocked unless `restock` is
   * false. More of a line than the hold sold: InventoryAPIError with code
   * `return_exceeds_sale`. The same idempotencyKey again returns the same
   * return.
   */
  async createReturn(shopId: string, holdId: string, req: CreateReturnRequest, options?: RequestOptions): Promise<Return> {
    return this.#post<Return>(holdPath(shopId, holdId) + "/returns", req, options);
  }

  /** The shop's committed rentals, newest first; `status` keeps out, overdue or returned ones. */
  listRentals(shopId: string, opts: ListOptions & { status?: "out" | "overdue" | "returned" } = {}, options?: RequestOptions): PageList<Rental> {
    return this.#list<Rental>(shopPath(shopId) + "/rentals", opts.cursor ?? undefined, (q) => {
      limitQuery(opts)(q);
      if (opts.status !== undefined) q.set("status", opts.status);
    }, options);
  }

  /** A hold's returns, oldest first. */
  async listReturns(shopId: string, holdId: string, options?: RequestOptions): Promise<Return[]> {
    const page = await this.#get<{ items: Return[] }>(holdPath(shopId, holdId) + "/returns", undefined, options);
    return page.items;
  }

  // Checkout.

  /**
   * Creates a Stripe Checkout Session for the cart, holding its stock first
   * in reserve_ttl mode. The same idempotencyKey with the same request
   * returns the same session. Stripe failing is a 502 InventoryUnavailableError
   * with code `payment_provider_error` (any hold placed was released).
   */
  async createCheckoutSession(req: CreateCheckoutSessionRequest, options?: RequestOptions): Promise<CheckoutSession> {
    return this.#post<CheckoutSession>("/api/checkout/sessions", req, options);
  }

  // Shops and locations.

  /** Creates a shop with its `default` location (service token only). */
  async createShop(req: CreateShopRequest, options?: RequestOptions): Promise<Shop> {
    return this.#post<Shop>(INVENTORY_PREFIX + "/shops", req, options);
  }

  /** A shop and its locations. */
  async getShop(shopId: string, options?: RequestOptions): Promise<Shop> {
    return this.#get<Shop>(shopPath(shopId), undefined, options);
  }

  /** Renames a shop or turns its public availability on or off. */
  async updateShop(shopId: string, req: UpdateShopRequest, options?: RequestOptions): Promise<Shop> {
    const res = await this.#t.json<Shop>({ method: "PATCH", path: shopPath(shopId), body: req, authenticated: true }, options);
    return res.data;
  }

  /** The shop's locations. */
  async listLocations(shopId: string, options?: RequestOptions): Promise<Location[]> {
    const page = await this.#get<{ items: Location[] }>(shopPath(shopId) + "/locations", undefined, options);
    return page.items;
  }

  /** Adds a location; lower priority numbers are allocated first. */
  async createLocation(shopId: string, req: CreateLocationRequest, options?: RequestOptions): Promise<Location> {
    return this.#post<Location>(shopPath(shopId) + "/locations", req, options);
  }

  /** Renames a location or changes its priority. */
  async updateLocation(shopId: string, locationId: string, req: UpdateLocationRequest, options?: RequestOptions): Promise<Location> {
    const path = shopPath(shopId) + "/locations/" + segment("locationId", locationId);
    const res = await this.#t.json<Location>({ method: "PATCH", path, body: req, authenticated: true }, options);
    return res.data;
  }

  // Operations.

  /** Paid orders the stock could not cover, newest first. */
  listOversold(shopId: string, opts: ListOptions = {}, options?: RequestOptions): PageList<OversoldOrder> {
    return this.#list<OversoldOrder>(shopPath(shopId) + "/oversold", opts.cursor ?? undefined, limitQuery(opts), options);
  }

  /** Low-stock and oversold alerts and their deliveries, newest first. */
  listAlerts(shopId: string, opts: ListOptions = {}, options?: RequestOptions): PageList<Alert> {
    return this.#list<Alert>(shopPath(shopId) + "/alerts", opts.cursor ?? undefined, limitQuery(opts), options);
  }

  /**
   * Streams every stock line of the shop: onChange gets each line now, then
   * again on each change, with onHand and reserved. Reconnects by itself
   * until `close()`.
   */
  subscribeStock(shopId: string, onChange: (item: StockEvent) => void, options?: SubscribeOptions): Subscription {
    return streamEvents(this.#t, { path: shopPath(shopId) + "/stream", authenticated: true, event: "stock" }, onChange, options);
  }

  async #get<T>(path: string, query: URLSearchParams | undefined, options: RequestOptions | undefined): Promise<T> {
    const call = query ? { method: "GET" as const, path, query, authenticated: true } : { method: "GET" as const, path, authenticated: true };
    return (await this.#t.json<T>(call, options)).data;
  }

  async #post<T>(path: string, body: unknown, options: RequestOptions | undefined): Promise<T> {
    return (await this.#t.json<T>({ method: "POST", path, body, authenticated: true }, options)).data;
  }

  #list<T>(path: string, cursor: string | undefined, setQuery: (q: URLSearchParams) => void, options: RequestOptions | undefined): PageList<T> {
    return new PageList<T>(async (c) => {
      const q = new URLSearchParams();
      setQuery(q);
      if (c !== undefined) q.set("cursor", c);
      return this.#get<Page<T>>(path, q, options);
    }, cursor);
  }
}

function shopPath(shopId: string): string {
  return `${INVENTORY_PREFIX}/shops/${segment("shopId", shopId)}`;
}

function stockPath(shopId: string, sku: string): string {
  return `${shopPath(shopId)}/stock/${segment("sku", sku)}`;
}

function holdPath(shopId: string, holdId: string): string {
  return `${shopPath(shopId)}/holds/${segment("holdId", holdId)}`;
}

function variantQuery(variantKey: string): URLSearchParams | undefined {
  if (!variantKey) return undefined;
  return new URLSearchParams({ variantKey });
}

function limitQuery(opts: ListOptions): (q: URLSearchParams) => void {
  return (q) => {
    if (opts.limit !== undefined) q.set("limit", String(opts.limit));
  };
}
