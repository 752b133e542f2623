// Validate, stock lines, settings, stock changes and the ledger, against
// the real server.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { InventoryAPIError, type StockInfo } from "../src/index.js";
import { addLocation, newShop, serviceClient, stock, uniqueId } from "./harness/env.js";

const client = serviceClient();

describe("validate", () => {
  let shop: string;
  before(async () => {
    shop = await newShop();
    await stock(client, shop, [{ sku: "SKU-123", variantKey: "size:M", quantity: 1 }, { sku: "MUG", quantity: 5 }]);
  });

  it("answers ok for a cart in stock", async () => {
    assert.deepEqual(await client.validate(shop, [{ sku: "MUG", quantity: 5 }, { sku: "SKU-123", variantKey: "size:M", quantity: 1 }]), { ok: true, insufficient: [] });
  });

  it("lists the short lines, summing repeats, an unknown line as available 0", async () => {
    const res = await client.validate(shop, [
      { sku: "SKU-123", variantKey: "size:M", quantity: 1 },
      { sku: "SKU-123", variantKey: "size:M", quantity: 1 },
      { sku: "NEVER", quantity: 1 },
    ]);
    assert.equal(res.ok, false);
    assert.deepEqual(
      [...res.insufficient].sort((a, b) => a.sku.localeCompare(b.sku)),
      [
        { sku: "NEVER", variantKey: "", requested: 1, available: 0 },
        { sku: "SKU-123", variantKey: "size:M", requested: 2, available: 1 },
      ],
    );
  });

  it("refuses a malformed cart with the fields at fault", async () => {
    const err = await client.validate(shop, [{ sku: "", quantity: 0 }]).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError);
    assert.equal(err.status, 400);
    assert.equal(err.code, "invalid_request");
    assert.ok(err.details.length >= 2, JSON.stringify(err.details));
    assert.ok(err.details.some((d) => d.field === "items[0].quantity"));
  });

  it("answers not_found for an unknown shop", async () => {
    const err = await client.validate("no-such-shop-" + Date.now(), [{ sku: "A", quantity: 1 }]).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && err.status === 404 && err.code === "not_found");
  });
});

describe("stock lines", () => {
  let shop: string;
  before(async () => {
    shop = await newShop();
  });

  it("gets a line, with SKUs that need escaping, and 404 for an unknown one", async () => {
    await stock(client, shop, [{ sku: "a/b.c:d", variantKey: "size:M,color:red", quantity: 10 }, { sku: "..", quantity: 2 }]);
    // ".." is a valid SKU, but fetch would turn its URL into another route.
    await assert.rejects(client.getStock(shop, ".."), TypeError);
    const line = await client.getStock(shop, "a/b.c:d", "size:M,color:red");
    assert.equal(line.sku, "a/b.c:d");
    assert.equal(line.variantKey, "size:M,color:red");
    assert.equal(line.onHand, 10);
    assert.equal(line.available, 10);
    assert.deepEqual(line.locations, [{ locationId: "default", onHand: 10, reserved: 0, available: 10 }]);
    const err = await client.getStock(shop, "a/b.c:d", "size:L").catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && err.status === 404 && err.code === "not_found");
  });

  it("changes a line's settings", async () => {
    await stock(client, shop, [{ sku: "SET", quantity: 8 }]);
    const line = await client.updateStockSettings(shop, "SET", "", { lowStockThreshold: 5, safetyStock: 2, backorderLimit: 3 });
    assert.equal(line.safetyStock, 2);
    assert.equal(line.available, 6);
    assert.equal(line.lowStockThreshold, 5);
    assert.equal(line.lowStock, false);
    assert.equal(line.backorderLimit, 3);
    assert.equal(line.backorderAllowed, true);
  });

  it("lists every line across pages, by page or by async iteration, and filters low stock", async () => {
    const listShop = await newShop();
    const skus = Array.from({ length: 7 }, (_, i) => `P-${i}`);
    await stock(client, listShop, skus.map((sku, i) => ({ sku, quantity: i < 2 ? 1 : 100 })));

    const first = await client.listStock(listShop, { limit: 3 });
    assert.equal(first.items.length, 3);
    assert.ok(first.nextCursor);
    const second = await client.listStock(listShop, { limit: 3, cursor: first.nextCursor });
    assert.equal(second.items.length, 3);

    const seen: StockInfo[] = [];
    for await (const line of client.listStock(listShop, { limit: 3 })) seen.push(line);
    assert.deepEqual(seen.map((l) => l.sku).sort(), skus);
    assert.deepEqual([...first.items, ...second.items], seen.slice(0, 6));

    const pages = [];
    for await (const page of client.listStock(listShop, { limit: 3 }).pages()) pages.push(page.items.length);
    assert.deepEqual(pages, [3, 3, 1]);

    const low = await client.listStock(listShop, { lowStock: true }).toArray();
    assert.deepEqual(low.map((l) => l.sku).sort(), ["P-0", "P-1"]);
  });
});

describe("stock changes", () => {
  let shop: string;
  before(async () => {
    shop = await newShop();
    await addLocation(shop, "berlin", 10);
  });

  it("adjusts, and replays the same idempotencyKey without applying it twice", async () => {
    const key = uniqueId("adj");
    const req = {
      reference: "count-1",
      createdBy: "ops@example.com",
      idempotencyKey: key,
      changes: [
        { sku: "ADJ", variantKey: "size:M", locationId: "default", op: "set" as const, quantity: 40, type: "ADJUSTMENT" as const, notes: "cycle count" },
        { sku: "ADJ", variantKey: "size:M", locationId: "berlin", op: "increment" as const, quantity: 5 },
      ],
    };
    const first = await client.adjust(shop, req);
    assert.equal(first.applied, 2);
    const atDefault = first.movements.find((m) => m.locationId === "default");
    assert.equal(atDefault?.type, "ADJUSTMENT");
    assert.equal(atDefault?.quantity, 40);
    assert.equal(atDefault?.notes, "cycle count");
    assert.deepEqual(await client.adjust(shop, req), first);
    assert.equal((await client.getStock(shop, "ADJ", "size:M")).onHand, 45);

    const err = await client.adjust(shop, { ...req, changes: [{ sku: "ADJ", variantKey: "size:M", op: "decrement", quantity: 1 }] }).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError);
    assert.equal(err.status, 409);
    assert.equal(err.code, "idempotency_conflict");
  });

  it("refuses a change that would leave less on hand than is reserved, all or nothing", async () => {
    await stock(client, shop, [{ sku: "RES", quantity: 3 }]);
    await client.createHold(shop, { items: [{ sku: "RES", quantity: 2 }] });
    const err = await client
      .adjust(shop, { changes: [{ sku: "OTHER", op: "set", quantity: 9 }, { sku: "RES", op: "set", quantity: 1 }] })
      .catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError);
    assert.equal(err.status, 409);
    assert.equal(err.code, "stock_conflict");
    assert.equal(err.body["sku"], "RES");
    await assert.rejects(client.getStock(shop, "OTHER"), (e) => e instanceof InventoryAPIError && e.status === 404);
  });

  it("receives a purchase order, idempotently", async () => {
    const req = { purchaseOrderId: "PO-7", idempotencyKey: uniqueId("po"), items: [{ sku: "RCV", quantity: 12 }, { sku: "RCV", locationId: "berlin", quantity: 3 }] };
    const res = await client.receive(shop, req);
    assert.equal(res.applied, 2);
    assert.ok(res.movements.every((m) => m.type === "PURCHASE_ORDER" && m.reference === "PO-7"));
    assert.deepEqual(await client.receive(shop, req), res);
    assert.equal((await client.getStock(shop, "RCV")).onHand, 15);
  });

  it("transfers between locations, idempotently, and refuses to move stock the source lacks", async () => {
    await stock(client, shop, [{ sku: "TRF", quantity: 10 }]);
    const req = { fromLocationId: "default", toLocationId: "berlin", reference: "rebalance", idempotencyKey: uniqueId("trf"), items: [{ sku: "TRF", quantity: 4 }] };
    const res = await client.transfer(shop, req);
    assert.equal(res.applied, 2);
    assert.deepEqual(res.movements.map((m) => [m.type, m.locationId, m.quantity]).sort(), [["TRANSFER", "berlin", 4], ["TRANSFER", "default", -4]]);
    assert.deepEqual(await client.transfer(shop, req), res);
    const line = await client.getStock(shop, "TRF");
    assert.deepEqual(line.locations.map((l) => [l.locationId, l.onHand]).sort(), [["berlin", 4], ["default", 6]]);

    const err = await client.transfer(shop, { ...req, idempotencyKey: uniqueId("trf"), items: [{ sku: "TRF", quantity: 7 }] }).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && err.status === 409, String(err));
  });

  it("lists the ledger newest first across pages, filtered by line", async () => {
    const ledgerShop = await newShop();
    for (let i = 1; i <= 5; i++) {
      await client.adjust(ledgerShop, { reference: `r${i}`, changes: [{ sku: "LED", op: "increment", quantity: i }] });
    }
    await client.adjust(ledgerShop, { reference: "other", changes: [{ sku: "ELSE", op: "set", quantity: 1 }] });
    const all = await client.listMovements(ledgerShop, { sku: "LED", variantKey: "", limit: 2 }).toArray();
    assert.deepEqual(all.map((m) => m.reference), ["r5", "r4", "r3", "r2", "r1"]);
    const first = await client.listMovements(ledgerShop, { limit: 2 });
    assert.equal(first.items[0]?.reference, "other");
    assert.ok(first.nextCursor);
  });
});
