// Purchase limits against a real checkoutd: a line's maxPerOrder and
// maxPerCustomer refuse holds with a LimitExceededError naming the line, and
// hold nothing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InventoryAPIError, LimitExceededError } from "../src/index.js";
import { newShop, serviceClient, stock } from "./harness/env.js";

const client = serviceClient();

describe("purchase limits", () => {
  it("refuses a hold over maxPerOrder or the customer's maxPerCustomer", async () => {
    const shop = await newShop();
    await stock(client, shop, [{ sku: "DROP", quantity: 10 }]);
    const info = await client.updateStockSettings(shop, "DROP", "", { maxPerOrder: 2, maxPerCustomer: 3 });
    assert.equal(info.maxPerOrder, 2);
    assert.equal(info.maxPerCustomer, 3);

    const perOrder = await client.createHold(shop, { items: [{ sku: "DROP", quantity: 3 }], customerKey: "acct_1" }).catch((e: unknown) => e);
    assert.ok(perOrder instanceof LimitExceededError);
    assert.equal(perOrder.code, "limit_exceeded");
    assert.deepEqual(perOrder.items, [{ sku: "DROP", variantKey: "", requested: 3, limit: 2, kind: "per_order" }]);

    await client.createHold(shop, { items: [{ sku: "DROP", quantity: 2 }], customerKey: "acct_1" });
    const perCustomer = await client.createHold(shop, { items: [{ sku: "DROP", quantity: 2 }], customerKey: "acct_1" }).catch((e: unknown) => e);
    assert.ok(perCustomer instanceof LimitExceededError);
    assert.deepEqual(perCustomer.items, [{ sku: "DROP", variantKey: "", requested: 2, limit: 3, kind: "per_customer", remaining: 1 }]);
    await assert.rejects(
      client.createHold(shop, { items: [{ sku: "DROP", quantity: 1 }] }),
      (e) => e instanceof InventoryAPIError && e.status === 400 && e.code === "invalid_request",
    );
    assert.equal((await client.getStock(shop, "DROP")).reserved, 2);
  });
});
