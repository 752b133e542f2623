// A Cloudflare Worker in front of a shop's checkout: it validates the cart
// with the inventory authority and lets the checkout through only when every
// line is in stock. Fails closed: when the authority is down the customer
// gets 503, never a checkout that might oversell.
//
// wrangler.toml:
//   [vars]
//   INVENTORY_AUTHORITY_URL = "https://inventory.example.com/api/inventory"
//   INVENTORY_AUTHORITY_TIMEOUT = "5000"
//   SHOP_ID = "acme"
//   CHECKOUT_ORIGIN = "https://checkout.acme.example"
// and `wrangler secret put INVENTORY_AUTHORITY_TOKEN`.
import {
  InventoryAPIError,
  InventoryAuthenticationError,
  InventoryAuthorityClient,
  InventoryTimeoutError,
  type Line,
} from "@checkoutd/client";

export interface Env {
  INVENTORY_AUTHORITY_URL: string;
  INVENTORY_AUTHORITY_TOKEN: string;
  INVENTORY_AUTHORITY_TIMEOUT?: string;
  SHOP_ID: string;
  /** Where a validated checkout request goes on to. */
  CHECKOUT_ORIGIN: string;
}

// One client per isolate, built on the first request (env is per request in
// module Workers, but the same for every request of a deployment).
let client: InventoryAuthorityClient | undefined;

function inventory(env: Env): InventoryAuthorityClient {
  client ??= new InventoryAuthorityClient({
    baseUrl: env.INVENTORY_AUTHORITY_URL,
    token: env.INVENTORY_AUTHORITY_TOKEN,
    timeout: parseInt(env.INVENTORY_AUTHORITY_TIMEOUT ?? "5000", 10),
  });
  return client;
}

const json = (body: unknown, status: number) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

/** The cart in a checkout request's body: `{"items": [{"sku", "variantKey", "quantity"}]}`. */
async function getCart(request: Request): Promise<Line[] | undefined> {
  try {
    const body = (await request.clone().json()) as { items?: unknown };
    return Array.isArray(body.items) ? (body.items as Line[]) : undefined;
  } catch {
    return undefined;
  }
}

export async function handleCheckout(request: Request, env: Env): Promise<Response> {
  const items = await getCart(request);
  if (!items) return json({ error: "invalid_cart" }, 400);

  try {
    const result = await inventory(env).validate(env.SHOP_ID, items);
    if (!result.ok) {
      return json({ error: "insufficient_stock", items: result.insufficient }, 409);
    }
  } catch (err) {
    // Fail closed: no checkout unless the authority said yes.
    if (err instanceof InventoryTimeoutError) {
      return json({ error: "inventory_timeout" }, 504);
    }
    if (err instanceof InventoryAuthenticationError) {
      console.error("[Inventory] Auth failed - check INVENTORY_AUTHORITY_TOKEN");
      return json({ error: "internal_error" }, 500);
    }
    if (err instanceof InventoryAPIError && err.status === 400) {
      return json({ error: "invalid_cart", details: err.details }, 400);
    }
    console.error("[Inventory] Validation failed:", err);
    return json({ error: "inventory_unavailable" }, 503);
  }

  // In stock: on to the checkout backend, which places the hold.
  const url = new URL(request.url);
  return fetch(new Request(env.CHECKOUT_ORIGIN + url.pathname + url.search, request));
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/checkout") {
      return handleCheckout(request, env);
    }
    return json({ error: "not_found" }, 404);
  },
};
