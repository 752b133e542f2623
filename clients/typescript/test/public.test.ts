// Public availability and the authenticated stock stream (API.md "Public
// availability"), from Node: fetch streams, as Node 20 has no EventSource.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InventoryAPIError, PublicAvailabilityClient, type AvailabilityItem, type StockEvent } from "../src/index.js";
import { newShop, server, serviceClient, stock } from "./harness/env.js";

const client = serviceClient();
const pub = new PublicAvailabilityClient({ baseUrl: server.url, EventSource: null });

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("public availability", () => {
  it("answers 404 until the shop turns it on, then shows only availability", async () => {
    const shop = await newShop("pub");
    await stock(client, shop, [{ sku: "A", variantKey: "size:M", quantity: 5 }, { sku: "A", variantKey: "size:S", quantity: 1 }, { sku: "B", quantity: 2 }]);
    await assert.rejects(pub.availability(shop, ["A"]), (e) => e instanceof InventoryAPIError && e.status === 404);
    await client.updateShop(shop, { publicAvailability: true });
    const items = await pub.availability(shop, ["A", "UNKNOWN"]);
    assert.deepEqual(items, [
      { sku: "A", variantKey: "size:M", available: 5, lowStock: true, backorderAllowed: false },
      { sku: "A", variantKey: "size:S", available: 1, lowStock: true, backorderAllowed: false },
    ]);
  });

  it("streams the current lines, then each change", async () => {
    const shop = await newShop("pub");
    await stock(client, shop, [{ sku: "A", quantity: 5 }]);
    await client.updateShop(shop, { publicAvailability: true });
    const got: AvailabilityItem[] = [];
    const sub = pub.subscribeAvailability(shop, ["A"], (i) => got.push(i));
    try {
      await until(() => got.length >= 1, "the current state");
      assert.equal(got[0]?.available, 5);
      await client.createHold(shop, { items: [{ sku: "A", quantity: 2 }] });
      await until(() => got.at(-1)?.available === 3, "the change");
    } finally {
      sub.close();
    }
  });

  it("streams a shop's lines with on hand and reserved to the token holder", async () => {
    const shop = await newShop("stream");
    await stock(client, shop, [{ sku: "A", quantity: 5 }]);
    const got: StockEvent[] = [];
    const sub = client.subscribeStock(shop, (e) => got.push(e));
    try {
      await until(() => got.length >= 1, "the current state");
      assert.equal(got[0]?.onHand, 5);
      await client.createHold(shop, { items: [{ sku: "A", quantity: 2 }] });
      await until(() => got.at(-1)?.reserved === 2, "the change");
    } finally {
      sub.close();
    }
  });
});
