// The request and response shapes, named. Every one here comes from
// docs/openapi.yaml through src/generated/openapi.ts (npm run generate).
import type { components } from "./generated/openapi.js";

type Schemas = components["schemas"];

/** A stock line and a quantity: what carts, holds and transfers are made of. */
export type Line = Schemas["Line"];
/** A line that fell short: what was requested and what could be had. */
export type Shortfall = Schemas["Shortfall"];
/** One wrong request field of a 400 `invalid_request`. */
export type FieldIssue = Schemas["FieldIssue"];
/** `active`, `pending_payment`, `committed`, `released` or `expired`. */
export type HoldStatus = Schemas["HoldStatus"];
/** A ledger movement type. */
export type MovementType = Schemas["MovementType"];

/** The answer of `validate`: `insufficient` is empty when `ok`. */
export interface ValidateResult {
  ok: boolean;
  insufficient: Shortfall[];
}

/** A stock line with its per-location breakdown. */
export type StockInfo = Schemas["StockInfo"];
/** One location's share of a stock line. */
export type LocationStock = Schemas["LocationStock"];
/** Any of a stock line's settings; a field left out keeps its value. */
export type StockSettings = Schemas["StockSettings"];

/** One change of an adjustment. */
export type StockChange = Schemas["StockChange"];
/** A `set` whose `expectedOnHand` was not its row's on-hand when it ran. */
export type StaleCount = Schemas["StaleCount"];
/** A line over a purchase limit (`maxPerOrder` or `maxPerCustomer`). */
export type LimitBreach = Schemas["LimitBreach"];
/** `POST .../adjustments`. */
export type AdjustRequest = Schemas["AdjustRequest"];
/** One line of a purchase-order receipt. */
export type ReceiptItem = Schemas["ReceiptItem"];
/** `POST .../receipts`. */
export type ReceiptRequest = Schemas["ReceiptRequest"];
/** `POST .../transfers`. */
export type TransferRequest = Schemas["TransferRequest"];
/** What an adjustment, receipt or transfer wrote. */
export type ChangeResult = Schemas["ChangeResult"];
/** A ledger entry. */
export type Movement = Schemas["Movement"];

/** `POST .../holds`. */
export type CreateHoldRequest = Schemas["CreateHoldRequest"];
/** `PUT .../holds/{holdId}/items`: what the hold holds from now on. */
export type SetHoldItemsRequest = Schemas["SetHoldItemsRequest"];
/** A hold and where its units were taken from. */
export type Hold = Schemas["Hold"];
/** A held line. */
export type HoldItem = Schemas["HoldItem"];
/** Units of a held line taken at one location. */
export type Allocation = Schemas["Allocation"];
/** `POST .../holds/{holdId}/returns`: `restock` defaults to true. */
export type CreateReturnRequest = Schemas["CreateReturnRequest"];
/** Units taken back from a committed hold. */
export type Return = Schemas["Return"];
/** A returned line at the location its units came back to. */
export type ReturnItem = Schemas["ReturnItem"];
/** A committed rental: when it is due back and what is still out. */
export type Rental = Schemas["Rental"];

/** `POST /api/checkout/sessions`. */
export type CreateCheckoutSessionRequest = Schemas["CreateCheckoutSessionRequest"];
/** A line of a checkout, with its price. */
export type CheckoutItem = Schemas["CheckoutItem"];
/** How the customer may change a checkout line's quantity on Stripe's page. */
export type AdjustableQuantity = Schemas["AdjustableQuantity"];
/** The Stripe Checkout Session created, and the hold placed for it: `url` for hosted, `clientSecret` for embedded. */
export type CheckoutSession = Schemas["CheckoutSession"];

/** A paid order the stock could not cover. */
export type OversoldOrder = Schemas["OversoldOrder"];
/** A low-stock, oversold or digest alert and its deliveries. */
export type Alert = Schemas["Alert"];

/** A page of a list: pass `nextCursor` as `cursor` for the next; null on the last. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A shop, with its locations (`default` always among them). */
export type Shop = Schemas["Shop"];
/** A location stock is kept at; lower `priority` numbers are allocated first. */
export type Location = Schemas["Location"];
/** `POST /api/inventory/shops` (service token only). */
export type CreateShopRequest = Schemas["CreateShopRequest"];
/** `PATCH /api/inventory/shops/{shopId}`: any of the fields. */
export type UpdateShopRequest = Schemas["UpdateShopRequest"];
/** `POST .../locations`. */
export type CreateLocationRequest = Schemas["CreateLocationRequest"];
/** `PATCH .../locations/{locationId}`: any of the fields. */
export type UpdateLocationRequest = Schemas["UpdateLocationRequest"];
/**
 * A variant line as the public availability routes show it: nothing about
 * on hand, reserved, safety stock, holds or locations.
 */
export type AvailabilityItem = Schemas["PublicItem"];
/** An `event: stock` of the authenticated shop stream: the public item plus on hand and reserved. */
export type StockEvent = Schemas["PrivateStockItem"];
