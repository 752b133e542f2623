// A counted set (`expectedOnHand`) against a real checkoutd: a stale count
// is a StaleCountError and writes nothing; a count that holds applies.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InventoryAPIError, StaleCountError } from "../src/index.js";
import { newShop, serviceClient, stock } from "./harness/env.js";

const client = serviceClient();

describe("counted stock", () => {
  it("refuses a stale count with every stale set named, and applies one that holds", async () => {
    const shop = await newShop();
    await stock(client, shop, [{ sku: "CNT", quantity: 10 }]);
    const err = await client
      .adjust(shop, { changes: [{ sku: "OTHER", op: "set", quantity: 4 }, { sku: "CNT", op: "set", quantity: 8, expectedOnHand: 9 }] })
      .catch((e: unknown) => e);
    assert.ok(err instanceof StaleCountError);
    assert.equal(err.status, 409);
    assert.equal(err.code, "stale_count");
    assert.deepEqual(err.items, [{ sku: "CNT", variantKey: "", locationId: "default", expectedOnHand: 9, onHand: 10 }]);
    assert.equal((await client.getStock(shop, "CNT")).onHand, 10);
    await assert.rejects(client.getStock(shop, "OTHER"), (e) => e instanceof InventoryAPIError && e.status === 404);

    const res = await client.adjust(shop, { changes: [{ sku: "CNT", op: "set", quantity: 8, expectedOnHand: 10 }] });
    assert.equal(res.applied, 1);
    assert.equal(res.movements[0]?.quantity, -2);
  });
});
