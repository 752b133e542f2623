// app/api/checkout-session/route.ts in a Next.js shop: creates the Stripe
// Checkout Session through checkoutd, which holds the cart's stock first
// (INVENTORY_MODE=reserve_ttl on the server) and releases it if the customer
// never pays. Runs on the edge runtime or Node alike.
//
// .env:
//   INVENTORY_AUTHORITY_URL=https://inventory.example.com
//   INVENTORY_AUTHORITY_TOKEN=...   (a shop key: checkoutd keys create --shop acme)
//   SHOP_ID=acme
//   SHOP_URL=https://acme.example
import {
  InsufficientStockError,
  InventoryAuthenticationError,
  InventoryAuthorityClient,
  InventoryBusyError,
  InventoryTimeoutError,
  InventoryUnavailableError,
} from "@checkoutd/client";

export const runtime = "edge";

// Next.js fills process.env on every runtime; declared here so the example
// needs no Node types.
declare const process: { env: Record<string, string | undefined> };

/** What the shop's cart page posts. */
interface CartBody {
  cartId: string;
  customerEmail?: string;
  items: Array<{ sku: string; variantKey?: string; quantity: number; name: string; unitAmount: number; currency: string }>;
}

let client: InventoryAuthorityClient | undefined;

function inventory(): InventoryAuthorityClient {
  client ??= new InventoryAuthorityClient({
    baseUrl: process.env["INVENTORY_AUTHORITY_URL"] ?? "",
    token: process.env["INVENTORY_AUTHORITY_TOKEN"] ?? "",
    timeout: parseInt(process.env["INVENTORY_AUTHORITY_TIMEOUT"] ?? "5000", 10),
  });
  return client;
}

// NextResponse.json, without importing next.
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });

export async function POST(req: Request): Promise<Response> {
  let cart: CartBody;
  try {
    cart = (await req.json()) as CartBody;
  } catch {
    return json({ error: "invalid_cart" }, 400);
  }
  const shopUrl = process.env["SHOP_URL"] ?? new URL(req.url).origin;

  try {
    const session = await inventory().createCheckoutSession({
      shopId: process.env["SHOP_ID"] ?? "",
      mode: "sale", // or "rental"
      // The cart id: a double-clicked "Pay" gets the same session back.
      idempotencyKey: cart.cartId,
      clientReferenceId: cart.cartId,
      items: cart.items,
      successUrl: `${shopUrl}/order/success`,
      cancelUrl: `${shopUrl}/cart`,
      ...(cart.customerEmail ? { customerEmail: cart.customerEmail } : {}),
    });
    // { id, url, inventoryMode, reservationId, expiresAt }: send the
    // customer to session.url.
    return json(session);
  } catch (err) {
    if (err instanceof InsufficientStockError) {
      // Specific SKUs out of stock: { sku, variantKey, requested, available }.
      return json({ error: "insufficient_stock", code: "inventory_insufficient", items: err.items }, 409);
    }
    if (err instanceof InventoryBusyError) {
      // The stock rows are contended (a flash sale): retry after a delay.
      return json({ error: "inventory_busy", retryAfter: err.retryAfterMs }, 429);
    }
    if (err instanceof InventoryUnavailableError) {
      return json({ error: "inventory_unavailable" }, 503);
    }
    if (err instanceof InventoryTimeoutError) {
      return json({ error: "inventory_timeout" }, 504);
    }
    if (err instanceof InventoryAuthenticationError) {
      console.error("[Checkout] Inventory auth failed - check INVENTORY_AUTHORITY_TOKEN");
    } else {
      console.error("[Checkout] Error:", err);
    }
    return json({ error: "checkout_failed" }, 500);
  }
}
