// The Next.js route handler example, called as Next.js would call it, against
// the real server with stripe-mock.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { POST } from "../examples/next-route.js";
import { newShop, server, serviceClient, shopKey, stock, uniqueId } from "./harness/env.js";

describe("the Next.js route example", () => {
  before(async () => {
    const shop = await newShop("next");
    await stock(serviceClient(), shop, [{ sku: "SHIRT", variantKey: "size:M", quantity: 2 }]);
    process.env["INVENTORY_AUTHORITY_URL"] = server.url;
    process.env["INVENTORY_AUTHORITY_TOKEN"] = await shopKey(shop);
    process.env["SHOP_ID"] = shop;
    process.env["SHOP_URL"] = "https://acme.example";
  });

  const post = (cartId: string, quantity: number) =>
    POST(
      new Request("https://acme.example/api/checkout-session", {
        method: "POST",
        body: JSON.stringify({
          cartId,
          customerEmail: "a@b.example",
          items: [{ sku: "SHIRT", variantKey: "size:M", quantity, name: "Linen shirt (M)", unitAmount: 4500, currency: "eur" }],
        }),
      }),
    );

  it("creates a checkout session holding the stock, the same one for the same cart", async () => {
    const cartId = uniqueId("cart");
    const res = await post(cartId, 1);
    assert.equal(res.status, 200, await res.clone().text());
    const session = (await res.json()) as { id: string; url: string; inventoryMode: string; reservationId: string | null };
    assert.match(session.id, /^cs_/);
    assert.equal(session.inventoryMode, "reserve_ttl");
    assert.ok(session.reservationId);
    const again = (await (await post(cartId, 1)).json()) as { id: string };
    assert.equal(again.id, session.id);
  });

  it("answers 409 with the short lines", async () => {
    const res = await post(uniqueId("cart"), 5);
    assert.equal(res.status, 409);
    const body = (await res.json()) as { error: string; code: string; items: Array<{ sku: string; requested: number; available: number }> };
    assert.equal(body.error, "insufficient_stock");
    assert.equal(body.code, "inventory_insufficient");
    assert.deepEqual(body.items.map((i) => [i.sku, i.requested, i.available]), [["SHIRT", 5, 1]]);
  });
});
