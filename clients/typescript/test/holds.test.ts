// Holds and checkout sessions against the real server (reserve_ttl, with
// stripe-mock standing in for Stripe).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { InsufficientStockError, InventoryAPIError, InventoryAuthorityClient } from "../src/index.js";
import { newShop, server, serviceClient, shopKey, stock, uniqueId } from "./harness/env.js";

const client = serviceClient();

describe("holds", () => {
  let shop: string;
  before(async () => {
    shop = await newShop();
    await stock(client, shop, [{ sku: "SKU-123", variantKey: "size:M", quantity: 5 }, { sku: "LAST", quantity: 1 }]);
  });

  it("creates, replays by idempotencyKey, reads, extends and commits a hold", async () => {
    const key = uniqueId("cart");
    const req = { items: [{ sku: "SKU-123", variantKey: "size:M", quantity: 2 }], ttlSeconds: 600, idempotencyKey: key, reference: key };
    const hold = await client.createHold(shop, req);
    assert.match(hold.id, /^hold_/);
    assert.equal(hold.shopId, shop);
    assert.equal(hold.status, "active");
    assert.equal(hold.reference, key);
    assert.equal(hold.checkoutSessionId, null);
    assert.deepEqual(hold.items, [{ sku: "SKU-123", variantKey: "size:M", quantity: 2, allocations: [{ locationId: "default", quantity: 2, backordered: 0 }] }]);

    const replay = await client.createHold(shop, req);
    assert.equal(replay.id, hold.id);
    assert.equal((await client.getStock(shop, "SKU-123", "size:M")).reserved, 2, "the replay held nothing more");

    const conflict = await client.createHold(shop, { ...req, items: [{ sku: "SKU-123", variantKey: "size:M", quantity: 1 }] }).catch((e: unknown) => e);
    assert.ok(conflict instanceof InventoryAPIError && conflict.status === 409 && conflict.code === "idempotency_conflict", String(conflict));

    assert.deepEqual(await client.getHold(shop, hold.id), hold);

    const extended = await client.extendHold(shop, hold.id, 3600);
    assert.ok(Date.parse(extended.expiresAt) > Date.parse(hold.expiresAt));

    const committed = await client.commitHold(shop, hold.id, { reference: "order-123" });
    assert.equal(committed.status, "committed");
    assert.deepEqual(await client.commitHold(shop, hold.id, { reference: "order-123" }), committed, "committing again changes nothing");
    const line = await client.getStock(shop, "SKU-123", "size:M");
    assert.equal(line.onHand, 3);
    assert.equal(line.reserved, 0);

    const err = await client.releaseHold(shop, hold.id, { reason: "cart_abandoned" }).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError);
    assert.equal(err.code, "hold_not_active");
    assert.equal(err.holdStatus, "committed");
  });

  it("sets a cart hold's items, all or nothing", async () => {
    const hold = await client.createHold(shop, { items: [{ sku: "SKU-123", variantKey: "size:M", quantity: 1 }], ttlSeconds: 60 });
    const grown = await client.setHoldItems(shop, hold.id, { items: [{ sku: "SKU-123", variantKey: "size:M", quantity: 2 }], ttlSeconds: 600 });
    assert.deepEqual(grown.items, [{ sku: "SKU-123", variantKey: "size:M", quantity: 2, allocations: [{ locationId: "default", quantity: 2, backordered: 0 }] }]);
    assert.ok(Date.parse(grown.expiresAt) > Date.parse(hold.expiresAt));

    const short = await client.setHoldItems(shop, hold.id, { items: [{ sku: "SKU-123", variantKey: "size:M", quantity: 50 }] }).catch((e: unknown) => e);
    assert.ok(short instanceof InsufficientStockError, String(short));
    assert.equal(short.items[0]?.requested, 50);
    assert.deepEqual((await client.getHold(shop, hold.id)).items, grown.items, "a refused change leaves the hold as it was");

    await client.releaseHold(shop, hold.id);
    const closed = await client.setHoldItems(shop, hold.id, { items: [{ sku: "SKU-123", variantKey: "size:M", quantity: 1 }] }).catch((e: unknown) => e);
    assert.ok(closed instanceof InventoryAPIError && closed.code === "hold_not_active" && closed.holdStatus === "released", String(closed));
  });

  it("releases a hold, idempotently, and refuses to commit it after", async () => {
    const hold = await client.createHold(shop, { items: [{ sku: "SKU-123", variantKey: "size:M", quantity: 1 }] });
    const released = await client.releaseHold(shop, hold.id, { reason: "cart_abandoned" });
    assert.equal(released.status, "released");
    assert.equal((await client.releaseHold(shop, hold.id)).status, "released");
    const err = await client.commitHold(shop, hold.id).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && err.code === "hold_not_active" && err.holdStatus === "released");
  });

  it("throws InsufficientStockError with the short lines when stock runs out", async () => {
    const err = await client
      .createHold(shop, { items: [{ sku: "LAST", quantity: 2 }, { sku: "SKU-123", variantKey: "size:M", quantity: 1 }] })
      .catch((e: unknown) => e);
    assert.ok(err instanceof InsufficientStockError, String(err));
    assert.equal(err.status, 409);
    assert.equal(err.code, "insufficient_stock");
    assert.deepEqual(err.items, [{ sku: "LAST", variantKey: "", requested: 2, available: 1 }]);
    assert.equal((await client.getStock(shop, "SKU-123", "size:M")).reserved, 0, "all or nothing");
  });

  it("answers 404 for an unknown hold", async () => {
    const err = await client.getHold(shop, "hold_doesnotexist").catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && err.status === 404);
  });
});

describe("checkout sessions", () => {
  let shop: string;
  before(async () => {
    shop = await newShop();
    await stock(client, shop, [{ sku: "SHIRT", variantKey: "size:M", quantity: 3 }]);
  });

  const cart = (key: string, quantity: number) => ({
    shopId: shop,
    mode: "sale" as const,
    idempotencyKey: key,
    items: [{ sku: "SHIRT", variantKey: "size:M", quantity, name: "Linen shirt (M)", unitAmount: 4500, currency: "eur" }],
    successUrl: "https://shop.example/ok",
    cancelUrl: "https://shop.example/cart",
    customerEmail: "a@b.example",
    clientReferenceId: key,
  });

  it("creates a session holding the stock, and replays it by idempotencyKey", async () => {
    const key = uniqueId("cart");
    const session = await client.createCheckoutSession(cart(key, 2));
    assert.match(session.id, /^cs_/);
    assert.ok(session.url?.startsWith("http"));
    assert.equal(session.uiMode, "hosted");
    assert.equal(session.clientSecret, null);
    assert.equal(session.inventoryMode, "reserve_ttl");
    assert.ok(session.reservationId);
    const hold = await client.getHold(shop, session.reservationId);
    assert.equal(hold.checkoutSessionId, session.id);
    assert.deepEqual(await client.createCheckoutSession(cart(key, 2)), session);
    assert.equal((await client.getStock(shop, "SHIRT", "size:M")).reserved, 2);
  });

  it("adopts the cart's hold with holdId instead of placing another", async () => {
    const fresh = await newShop();
    await stock(client, fresh, [{ sku: "MUG", variantKey: "", quantity: 5 }]);
    const held = await client.createHold(fresh, { items: [{ sku: "MUG", quantity: 1 }] });
    const req = {
      shopId: fresh, mode: "sale" as const, idempotencyKey: uniqueId("cart"), holdId: held.id,
      items: [{ sku: "MUG", quantity: 2, name: "Mug", unitAmount: 1200, currency: "eur" }],
      successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/cart",
    };
    const session = await client.createCheckoutSession(req);
    assert.equal(session.reservationId, held.id);
    const hold = await client.getHold(fresh, held.id);
    assert.equal(hold.checkoutSessionId, session.id);
    assert.equal(hold.items[0]?.quantity, 2);
    assert.deepEqual(await client.createCheckoutSession(req), session, "a replay is the same session");
    const taken = await client.createCheckoutSession({ ...req, idempotencyKey: uniqueId("cart") }).catch((e: unknown) => e);
    assert.ok(taken instanceof InventoryAPIError && taken.status === 409 && taken.code === "hold_in_checkout", String(taken));
  });

  it("sends Stripe Checkout's options, holding an adjustable line's maximum", async () => {
    const fresh = await newShop();
    await stock(client, fresh, [{ sku: "MUG", variantKey: "", quantity: 10 }]);
    const session = await client.createCheckoutSession({
      shopId: fresh,
      mode: "sale",
      items: [{
        sku: "MUG", quantity: 1, name: "Mug", unitAmount: 1200, currency: "eur",
        description: "Stoneware", adjustableQuantity: { enabled: true, minimum: 0, maximum: 4 },
      }],
      successUrl: "https://shop.example/ok",
      cancelUrl: "https://shop.example/cart",
      locale: "de",
      allowPromotionCodes: true,
      shippingAddressCollection: { allowedCountries: ["DE", "AT"] },
      metadata: { order_id: "1042" },
    });
    assert.ok(session.reservationId);
    assert.equal((await client.getStock(fresh, "MUG", "")).reserved, 4);
  });

  it("refuses embedded Checkout with successUrl, naming the field", async () => {
    const err = await client.createCheckoutSession({
      ...cart(uniqueId("cart"), 1), uiMode: "embedded", returnUrl: "https://shop.example/return",
    }).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && err.status === 400 && err.code === "invalid_request", String(err));
    assert.deepEqual(err.details.map((d) => d.field).sort(), ["cancelUrl", "successUrl"]);
  });

  it("throws InsufficientStockError when the cart is short", async () => {
    const err = await client.createCheckoutSession(cart(uniqueId("cart"), 50)).catch((e: unknown) => e);
    assert.ok(err instanceof InsufficientStockError, String(err));
    assert.equal(err.items[0]?.sku, "SHIRT");
    assert.equal(err.items[0]?.requested, 50);
  });

  it("lets a shop key act on its own shop only, answering 404 for another", async () => {
    const own = new InventoryAuthorityClient({ baseUrl: server.url, token: await shopKey(shop) });
    assert.equal((await own.getStock(shop, "SHIRT", "size:M")).sku, "SHIRT");
    const other = await newShop();
    const err = await own.createCheckoutSession({ ...cart(uniqueId("cart"), 1), shopId: other }).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && err.status === 404 && err.code === "not_found", String(err));
  });

  it("lists the shop's oversold orders and alerts, empty for a new shop", async () => {
    const fresh = await newShop();
    assert.deepEqual(await client.listOversold(fresh, { limit: 10 }), { items: [], nextCursor: null });
    assert.deepEqual(await client.listOversold(fresh).toArray(), []);
    assert.deepEqual(await client.listAlerts(fresh).toArray(), []);
  });
});
