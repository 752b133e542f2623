/**
 * @checkoutd/client: the inventory authority client for Cloudflare Workers,
 * Next.js (edge or Node), Node ≥ 18 and browsers. Web platform only, no
 * dependencies.
 *
 * @module
 */
export { InventoryAuthorityClient } from "./client.js";
export type { InventoryAuthorityClientOptions, ListStockOptions, ListMovementsOptions, ListOptions } from "./client.js";
export { PublicAvailabilityClient } from "./public.js";
export type { PublicAvailabilityOptions, EventSourceConstructor, EventSourceLike } from "./public.js";
export { PageList } from "./paging.js";
export type { Subscription, SubscribeOptions } from "./sse.js";
export type { FetchLike, RequestOptions } from "./transport.js";
export {
  InventoryError,
  InventoryUnavailableError,
  InventoryTimeoutError,
  InventoryAuthenticationError,
  InventoryAPIError,
  InsufficientStockError,
  StaleCountError,
  LimitExceededError,
  InventoryBusyError,
  UNAVAILABLE_MESSAGE,
  TIMEOUT_MESSAGE,
  AUTHENTICATION_MESSAGE,
} from "./errors.js";
export type { ErrorBody } from "./errors.js";
export type * from "./types.js";
