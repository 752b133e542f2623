import type { FieldIssue, HoldStatus, LimitBreach, Shortfall, StaleCount } from "./types.js";

/**
 * The base class of every error this package throws for a call to the
 * authority, so `err instanceof InventoryError` separates them from bugs.
 * The caller cancelling through its own `signal` is not one: that rejects
 * with the signal's reason, as `fetch` does.
 */
export class InventoryError extends Error {
  /** The `X-Request-Id` of the response, when there was one: quote it in support requests. */
  readonly requestId: string | undefined;

  constructor(message: string, options: { cause?: unknown; requestId?: string | undefined } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "InventoryError";
    this.requestId = options.requestId;
  }
}

/** The exact messages of the integration guide's three fail-closed cases. */
export const UNAVAILABLE_MESSAGE = "Inventory authority unavailable";
export const TIMEOUT_MESSAGE = "Inventory authority timeout";
export const AUTHENTICATION_MESSAGE = "Inventory authority authentication failed";

/**
 * The authority gave no usable answer: the connection failed (refused, DNS,
 * TLS), it answered 5xx (503 `inventory_unavailable` while its database is
 * down), or its answer was not the API's JSON. Fail closed: answer 503.
 * `message` is exactly "Inventory authority unavailable"; `detail` says why.
 */
export class InventoryUnavailableError extends InventoryError {
  /** The HTTP status, when the authority answered at all. */
  readonly status: number | undefined;
  /** The error body's code, when it had one, e.g. `inventory_unavailable`. */
  readonly code: string | undefined;
  /** What went wrong, for logs. */
  readonly detail: string;

  constructor(detail: string, options: { cause?: unknown; requestId?: string | undefined; status?: number; code?: string | undefined } = {}) {
    super(UNAVAILABLE_MESSAGE, options);
    this.name = "InventoryUnavailableError";
    this.status = options.status;
    this.code = options.code;
    this.detail = detail;
  }
}

/**
 * No complete answer arrived within the client's `timeout` (default 5000 ms).
 * The request may have taken effect: retry with the same idempotency key.
 * Fail closed: answer 504. `message` is exactly "Inventory authority timeout".
 */
export class InventoryTimeoutError extends InventoryError {
  /** The budget that ran out, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options: { cause?: unknown } = {}) {
    super(TIMEOUT_MESSAGE, options);
    this.name = "InventoryTimeoutError";
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The authority refused the token (401, or 403 as the Go client treats it):
 * it is missing, wrong or revoked. Log it and answer 500; an operator must fix
 * INVENTORY_AUTHORITY_TOKEN. `message` is exactly
 * "Inventory authority authentication failed".
 */
export class InventoryAuthenticationError extends InventoryError {
  /** 401 or 403. */
  readonly status: number;

  constructor(status: number, options: { requestId?: string | undefined } = {}) {
    super(AUTHENTICATION_MESSAGE, options);
    this.name = "InventoryAuthenticationError";
    this.status = status;
  }
}

/** The contract's error body, with every extra field some code carries. */
export interface ErrorBody {
  error?: string;
  message?: string;
  code?: string;
  details?: FieldIssue[];
  items?: Shortfall[] | StaleCount[] | LimitBreach[];
  status?: HoldStatus;
  retryAfter?: number;
  sku?: string;
  variantKey?: string;
  locationId?: string;
  [field: string]: unknown;
}

/**
 * The authority refused the request with any other status, in practice a 4xx
 * with the contract's error body: `invalid_request` (400, with `details`),
 * `not_found`, `conflict`, `stock_conflict`, `idempotency_conflict`,
 * `hold_not_active`, `body_too_large`, `rate_limited`, ...
 */
export class InventoryAPIError extends InventoryError {
  /** The HTTP status. */
  readonly status: number;
  /** The body's `error` field; "" when the body was not the contract's (a proxy's page). */
  readonly code: string;
  /** What is wrong with which request field, for `invalid_request`; otherwise empty. */
  readonly details: FieldIssue[];
  /** The whole error body as received, for the fields a code adds (`sku`, `locationId`, ...). */
  readonly body: ErrorBody;
  /**
   * How long to wait before trying again, for 429 (`inventory_busy`,
   * `rate_limited`): the body's `retryAfter` (ms), else the `Retry-After`
   * header (s); undefined for other statuses.
   */
  readonly retryAfterMs: number | undefined;
  /** The hold's status, for `hold_not_active`. */
  readonly holdStatus: HoldStatus | undefined;

  constructor(status: number, body: ErrorBody, options: { requestId?: string | undefined; retryAfterMs?: number | undefined; fallbackMessage?: string } = {}) {
    const code = typeof body.error === "string" ? body.error : "";
    const text = typeof body.message === "string" && body.message !== "" ? body.message : options.fallbackMessage ?? `HTTP ${status}`;
    super(`${text} (HTTP ${status}${code ? " " + code : ""})`, options);
    this.name = "InventoryAPIError";
    this.status = status;
    this.code = code;
    this.details = Array.isArray(body.details) ? body.details : [];
    this.body = body;
    this.retryAfterMs = options.retryAfterMs;
    this.holdStatus = code === "hold_not_active" ? body.status : undefined;
  }
}

/**
 * 409 `insufficient_stock`: a hold or checkout could not take every line.
 * `items` are the lines that fell short, with what was requested and what
 * was available.
 */
export class InsufficientStockError extends InventoryAPIError {
  /** The lines that fell short. */
  readonly items: Shortfall[];

  constructor(status: number, body: ErrorBody, options: { requestId?: string | undefined } = {}) {
    super(status, body, options);
    this.name = "InsufficientStockError";
    this.items = Array.isArray(body.items) ? (body.items as Shortfall[]) : [];
  }
}

/**
 * 409 `stale_count`: an adjustment's `set` carried an `expectedOnHand` that
 * its row no longer had when the set ran, because stock moved after the
 * count. Nothing was written; count again and retry. `items` names every
 * stale set with what it expected and what the row had.
 */
export class StaleCountError extends InventoryAPIError {
  /** The stale sets. */
  readonly items: StaleCount[];

  constructor(status: number, body: ErrorBody, options: { requestId?: string | undefined } = {}) {
    super(status, body, options);
    this.name = "StaleCountError";
    this.items = Array.isArray(body.items) ? (body.items as StaleCount[]) : [];
  }
}

/**
 * 409 `limit_exceeded`: a hold or checkout asked more of a line than its
 * `maxPerOrder` (`kind: "per_order"`), or more than its `maxPerCustomer`
 * leaves the customer (`kind: "per_customer"`, with `remaining`). Nothing
 * was held.
 */
export class LimitExceededError extends InventoryAPIError {
  /** The lines over a limit. */
  readonly items: LimitBreach[];

  constructor(status: number, body: ErrorBody, options: { requestId?: string | undefined } = {}) {
    super(status, body, options);
    this.name = "LimitExceededError";
    this.items = Array.isArray(body.items) ? (body.items as LimitBreach[]) : [];
  }
}

/**
 * 429 `inventory_busy`: the stock rows stayed locked past the server's budget
 * (a flash sale). Retry after `retryAfterMs`, which is always set.
 */
export class InventoryBusyError extends InventoryAPIError {
  declare readonly retryAfterMs: number;

  constructor(status: number, body: ErrorBody, options: { requestId?: string | undefined; retryAfterMs: number }) {
    super(status, body, options);
    this.name = "InventoryBusyError";
  }
}
