// Shops and locations over HTTP (API.md "Shops").
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InventoryAPIError, InventoryAuthorityClient } from "../src/index.js";
import { server, serviceClient, shopKey, uniqueId } from "./harness/env.js";

const client = serviceClient();

describe("shops and locations", () => {
  it("creates a shop with its default location, and refuses the same id twice", async () => {
    const id = uniqueId("shop");
    const shop = await client.createShop({ id, name: "Acme" });
    assert.equal(shop.id, id);
    assert.equal(shop.name, "Acme");
    assert.equal(shop.publicAvailability, false);
    assert.ok(!Number.isNaN(Date.parse(shop.createdAt)));
    assert.deepEqual(shop.locations, [{ id: "default", name: "Default", priority: 0 }]);
    assert.deepEqual(await client.getShop(id), shop);
    const err = await client.createShop({ id, name: "Again" }).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && err.status === 409 && err.code === "conflict", String(err));
  });

  it("updates a shop, also with its own shop key, and hides other shops from that key", async () => {
    const id = uniqueId("shop");
    await client.createShop({ id, name: "Acme" });
    const own = new InventoryAuthorityClient({ baseUrl: server.url, token: await shopKey(id) });
    const updated = await own.updateShop(id, { name: "Acme GmbH", publicAvailability: true });
    assert.equal(updated.name, "Acme GmbH");
    assert.equal(updated.publicAvailability, true);
    const other = uniqueId("shop");
    await client.createShop({ id: other, name: "Other" });
    await assert.rejects(own.getShop(other), (e) => e instanceof InventoryAPIError && e.status === 404 && e.code === "not_found");
    await assert.rejects(own.createShop({ id: uniqueId("shop"), name: "No" }), (e) => e instanceof InventoryAPIError && e.status === 404);
  });

  it("adds, lists and updates locations", async () => {
    const id = uniqueId("shop");
    await client.createShop({ id, name: "Acme" });
    const berlin = await client.createLocation(id, { id: "berlin", name: "Berlin", priority: 10 });
    assert.deepEqual(berlin, { id: "berlin", name: "Berlin", priority: 10 });
    const moved = await client.updateLocation(id, "berlin", { name: "Berlin Mitte", priority: 5 });
    assert.deepEqual(moved, { id: "berlin", name: "Berlin Mitte", priority: 5 });
    const all = await client.listLocations(id);
    assert.deepEqual(all.map((l) => l.id).sort(), ["berlin", "default"]);
    await assert.rejects(client.updateLocation(id, "nowhere", { name: "x" }), (e) => e instanceof InventoryAPIError && e.status === 404);
  });
});
