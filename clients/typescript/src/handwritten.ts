// Shapes from the contract (API.md) that docs/openapi.yaml does not describe
// yet: shops and locations, and the public availability items. Written by
// hand to the contract's words; once the spec has them, types.ts takes them
// from the generated file like the rest.

/** A location stock is kept at; lower `priority` numbers are allocated first. */
export interface Location {
  id: string;
  name: string;
  priority: number;
}

/** A shop, with its locations (`default` always among them). */
export interface Shop {
  id: string;
  name: string;
  /** Whether the public availability routes answer for this shop. */
  publicAvailability: boolean;
  createdAt: string;
  locations: Location[];
}

/** `POST /api/inventory/shops` (service token only). */
export interface CreateShopRequest {
  id: string;
  /** Display name; the server defaults it. */
  name?: string;
}

/** `PATCH /api/inventory/shops/{shopId}`: any of the fields. */
export interface UpdateShopRequest {
  name?: string;
  publicAvailability?: boolean;
}

/** `POST .../locations`. */
export interface CreateLocationRequest {
  id: string;
  name?: string;
  priority?: number;
}

/** `PATCH .../locations/{locationId}`: any of the fields. */
export interface UpdateLocationRequest {
  name?: string;
  priority?: number;
}

/**
 * A variant line as the public availability routes show it: nothing about
 * on hand, reserved, safety stock, holds or locations.
 */
export interface AvailabilityItem {
  sku: string;
  variantKey: string;
  available: number;
  lowStock: boolean;
  backorderAllowed: boolean;
}

/** An `event: stock` of the authenticated shop stream: the public item plus on hand and reserved. */
export interface StockEvent extends AvailabilityItem {
  onHand: number;
  reserved: number;
}
