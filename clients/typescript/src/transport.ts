// One HTTP exchange with the authority and the mapping of its outcome to the
// package's errors: the one place a status becomes an error class, like
// inventory/client's do in Go.
import {
  InsufficientStockError,
  InventoryAPIError,
  InventoryAuthenticationError,
  InventoryBusyError,
  InventoryTimeoutError,
  InventoryUnavailableError,
  StaleCountError,
  LimitExceededError,
  type ErrorBody,
} from "./errors.js";

/** The `fetch` the client calls: the global one unless another is given. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Per-call options every method takes last. */
export interface RequestOptions {
  /** Cancels the call; it then rejects with the signal's reason, as `fetch` does. */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call, in milliseconds. */
  timeout?: number;
}

/** The default budget of a call: the integration guide's INVENTORY_AUTHORITY_TIMEOUT. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Where the server mounts the inventory API. */
export const INVENTORY_PREFIX = "/api/inventory";

/** A request to send: path is absolute from the server's root and already escaped. */
export interface Call {
  method: "GET" | "POST" | "PUT" | "PATCH";
  path: string;
  query?: URLSearchParams;
  body?: unknown;
  /** Sent with the token; the public routes go without. */
  authenticated: boolean;
}

/** A 2xx answer. */
export interface Answer<T> {
  status: number;
  data: T;
}

/** Sends calls to one server. */
export class Transport {
  readonly base: string;
  readonly timeout: number;
  readonly #token: string | undefined;
  readonly #fetch: FetchLike;

  constructor(baseUrl: string, token: string | undefined, timeout: number | undefined, fetchFn: FetchLike | undefined) {
    this.base = parseBaseUrl(baseUrl);
    if (token !== undefined) checkToken(token);
    this.#token = token;
    this.timeout = checkTimeout(timeout ?? DEFAULT_TIMEOUT_MS, "timeout");
    const f = fetchFn ?? (globalThis.fetch as FetchLike | undefined);
    if (typeof f !== "function") {
      throw new TypeError("@checkoutd/client: no global fetch; pass one as the fetch option");
    }
    // Called unbound: Workers and browsers throw "Illegal invocation" when
    // fetch is called as a method of another object.
    this.#fetch = fetchFn ? (input, init) => fetchFn(input, init) : (input, init) => globalThis.fetch(input, init);
  }

  /** The full URL of path with query. */
  url(path: string, query?: URLSearchParams): string {
    const qs = query?.toString();
    return this.base + path + (qs ? "?" + qs : "");
  }

  /** The headers of a call; with the token when authenticated. */
  headers(authenticated: boolean, accept: string, withBody: boolean): Record<string, string> {
    const h: Record<string, string> = { Accept: accept };
    if (authenticated && this.#token !== undefined) h["Authorization"] = `Bearer ${this.#token}`;
    if (withBody) h["Content-Type"] = "application/json";
    return h;
  }

  /**
   * Sends call and returns its 2xx answer's JSON, or throws the error its
   * outcome maps to. The timeout covers everything up to the last byte of
   * the body.
   */
  async json<T>(call: Call, options: RequestOptions = {}): Promise<Answer<T>> {
    const timeout = options.timeout === undefined ? this.timeout : checkTimeout(options.timeout, "options.timeout");
    return withDeadline(timeout, options.signal, async (signal) => {
      const init: RequestInit = {
        method: call.method,
        headers: this.headers(call.authenticated, "application/json", call.body !== undefined),
        signal,
        // The API never redirects; following one could turn a POST into a
        // GET or carry the token elsewhere.
        redirect: "manual",
      };
      if (call.body !== undefined) init.body = JSON.stringify(call.body);
      const res = await this.#fetch(this.url(call.path, call.query), init);
      const text = await res.text();
      const requestId = res.headers.get("X-Request-Id") ?? undefined;
      if (res.status >= 200 && res.status < 300) {
        return { status: res.status, data: parseSuccess<T>(res.status, text, requestId) };
      }
      throw errorFor(res, text, requestId);
    });
  }

  /** Calls fetch as the transport does, for streams: the caller owns the body. */
  fetch(input: string, init: RequestInit): Promise<Response> {
    return this.#fetch(input, init);
  }
}

/**
 * Runs fn with a signal that aborts after timeoutMs or when outer aborts,
 * and classifies what fn throws: the deadline becomes InventoryTimeoutError,
 * the caller's abort its own reason, any other failure to get an answer
 * (fetch's TypeError, a body cut short) InventoryUnavailableError.
 */
export async function withDeadline<T>(timeoutMs: number, outer: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (outer?.aborted) throw outer.reason;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onAbort = () => controller.abort(outer?.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  try {
    return await fn(controller.signal);
  } catch (err) {
    if (err instanceof InventoryAPIError || err instanceof InventoryAuthenticationError || err instanceof InventoryUnavailableError) {
      throw err;
    }
    if (timedOut) throw new InventoryTimeoutError(timeoutMs, { cause: err });
    if (outer?.aborted) throw outer.reason;
    throw new InventoryUnavailableError(`no answer: ${describe(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener("abort", onAbort);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

function parseSuccess<T>(status: number, text: string, requestId: string | undefined): T {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InventoryUnavailableError(`HTTP ${status} response is not the API's JSON`, { cause: err, requestId, status });
  }
  if (data === null || typeof data !== "object") {
    throw new InventoryUnavailableError(`HTTP ${status} response is not a JSON object`, { requestId, status });
  }
  return data as T;
}

/** The error a non-2xx response maps to. */
export function errorFor(res: Response, text: string, requestId: string | undefined): Error {
  const status = res.status;
  const body = parseErrorBody(text);
  const code = typeof body.error === "string" ? body.error : undefined;
  if (status === 401 || status === 403) {
    return new InventoryAuthenticationError(status, { requestId });
  }
  if (status >= 500) {
    const msg = typeof body.message === "string" ? `: ${body.message}` : "";
    return new InventoryUnavailableError(`HTTP ${status}${code ? " " + code : ""}${msg}`, { requestId, status, code });
  }
  if (res.type === "opaqueredirect" || (status >= 300 && status < 400)) {
    const to = res.headers.get("Location");
    return new InventoryAPIError(status, body, {
      requestId,
      fallbackMessage: `unexpected redirect${to ? " to " + to : ""}: check the baseUrl`,
    });
  }
  if (status === 409 && code === "insufficient_stock") {
    return new InsufficientStockError(status, body, { requestId });
  }
  if (status === 409 && code === "stale_count") {
    return new StaleCountError(status, body, { requestId });
  }
  if (status === 409 && code === "limit_exceeded") {
    return new LimitExceededError(status, body, { requestId });
  }
  if (status === 429) {
    const retryAfterMs = retryAfter(body, res.headers.get("Retry-After"));
    if (code === "inventory_busy") return new InventoryBusyError(status, body, { requestId, retryAfterMs });
    return new InventoryAPIError(status, body, { requestId, retryAfterMs });
  }
  return new InventoryAPIError(status, body, { requestId });
}

/** An error body that is not JSON (a proxy's page) reads as empty: the status still says what happened. */
function parseErrorBody(text: string): ErrorBody {
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as ErrorBody;
  } catch {
    // Not the contract's body.
  }
  return {};
}

/** The body's retryAfter (ms), else the Retry-After header (seconds or an HTTP date), else 0. */
export function retryAfter(body: ErrorBody, header: string | null): number {
  if (typeof body.retryAfter === "number" && Number.isFinite(body.retryAfter) && body.retryAfter > 0) {
    return Math.ceil(body.retryAfter);
  }
  if (header) {
    const h = header.trim();
    if (/^\d+$/.test(h)) return Number(h) * 1000;
    const at = Date.parse(h);
    if (!Number.isNaN(at)) return Math.max(0, at - Date.now());
  }
  return 0;
}

/**
 * Checks baseUrl and returns it as scheme://host[/prefix], without a
 * trailing slash and without the /api/inventory the guide's
 * INVENTORY_AUTHORITY_URL examples end in.
 */
export function parseBaseUrl(raw: string): string {
  if (typeof raw !== "string" || raw.trim() === "") throw new TypeError("@checkoutd/client: baseUrl is empty");
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new TypeError(`@checkoutd/client: baseUrl ${JSON.stringify(raw)} is not a URL`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new TypeError(`@checkoutd/client: baseUrl ${JSON.stringify(raw)}: scheme must be http or https`);
  }
  if (u.username || u.password) throw new TypeError("@checkoutd/client: baseUrl must not carry user info; credentials go in the token");
  if (u.search || raw.includes("?")) throw new TypeError(`@checkoutd/client: baseUrl ${JSON.stringify(raw)} must not have a query`);
  if (u.hash) throw new TypeError(`@checkoutd/client: baseUrl ${JSON.stringify(raw)} must not have a fragment`);
  let path = u.pathname.replace(/\/+$/, "");
  if (path.endsWith(INVENTORY_PREFIX)) path = path.slice(0, -INVENTORY_PREFIX.length).replace(/\/+$/, "");
  return u.origin + path;
}

function checkToken(token: string): void {
  if (typeof token !== "string" || token === "") throw new TypeError("@checkoutd/client: token is empty");
  if (/[\x00-\x20\x7f]/.test(token)) throw new TypeError("@checkoutd/client: token contains whitespace or control characters");
}

function checkTimeout(ms: number, what: string): number {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
    throw new TypeError(`@checkoutd/client: ${what} must be a positive number of milliseconds, got ${String(ms)}`);
  }
  return ms;
}

/**
 * Escapes v, a caller's identifier named what, as one path segment. "." and
 * ".." are valid SKUs, but the URL standard (which fetch applies) removes
 * them as dot segments however they are escaped, so no web client can name
 * them in a path: refused here rather than sent to another route.
 */
export function segment(what: string, v: string): string {
  if (typeof v !== "string" || v === "") throw new TypeError(`@checkoutd/client: ${what} is empty`);
  if (v === "." || v === "..") {
    throw new TypeError(`@checkoutd/client: ${what} ${JSON.stringify(v)} cannot be sent in a URL path: the URL standard drops dot segments`);
  }
  return encodeURIComponent(v);
}
