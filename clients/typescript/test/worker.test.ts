// The Worker example running inside workerd, Cloudflare's runtime (through
// miniflare), against a real checkoutd: a cart in stock goes on to the
// checkout backend, a short cart gets 409 with its lines, and once the
// server has stopped the Worker answers 503.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { Miniflare, NoOpLog } from "miniflare";
import { InventoryAuthorityClient } from "../src/index.js";
import { newShop, server, stock } from "./harness/env.js";
import { startServer, type Server } from "./harness/stack.js";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** The Worker as wrangler would deploy it: one ES module, no Node built-ins. */
async function bundleWorker(): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [join(pkg, "examples/worker.ts")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    alias: { "@checkoutd/client": join(pkg, "src/index.ts") },
    write: false,
    logLevel: "silent",
  });
  return out.outputFiles[0]?.text ?? "";
}

describe("the Worker example in workerd", () => {
  let own: Server;
  let mf: Miniflare;
  let shop: string;
  const forwarded: Array<{ path: string; body: string }> = [];
  const upstream = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      forwarded.push({ path: req.url ?? "", body });
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ checkout: "created" }));
    });
  });

  before(async () => {
    const [srv, script] = await Promise.all([
      startServer({ bin: server.bin, databaseUrl: server.databaseUrl, stripeBase: server.stripeBase }),
      bundleWorker(),
      new Promise<void>((res) => upstream.listen(0, "127.0.0.1", res)),
    ]);
    own = srv;
    shop = await newShop("worker");
    await stock(new InventoryAuthorityClient({ baseUrl: own.url, token: own.token }), shop, [
      { sku: "SKU-123", variantKey: "size:M", quantity: 2 },
      { sku: "MUG", quantity: 10 },
    ]);
    const addr = upstream.address();
    assert.ok(addr && typeof addr === "object");
    mf = new Miniflare({
      modules: true,
      script,
      compatibilityDate: "2025-01-01",
      log: new NoOpLog(),
      // The Worker logs the outage it answers 503 for; the test checks the answer.
      handleRuntimeStdio: (stdout: NodeJS.ReadableStream, stderr: NodeJS.ReadableStream) => {
        stdout.resume();
        stderr.resume();
      },
      bindings: {
        // As the integration guide writes it, with /api/inventory.
        INVENTORY_AUTHORITY_URL: own.url + "/api/inventory",
        INVENTORY_AUTHORITY_TOKEN: own.token,
        INVENTORY_AUTHORITY_TIMEOUT: "5000",
        SHOP_ID: shop,
        CHECKOUT_ORIGIN: `http://127.0.0.1:${addr.port}`,
      },
    });
    await mf.ready;
  });

  after(async () => {
    await mf?.dispose();
    await own?.stop();
    await new Promise((res) => upstream.close(res));
  });

  const checkout = (items: unknown) =>
    mf.dispatchFetch("http://shop.example/checkout?cart=42", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ items }) });

  it("forwards a cart that is in stock to the checkout backend", async () => {
    const items = [{ sku: "SKU-123", variantKey: "size:M", quantity: 2 }, { sku: "MUG", quantity: 1 }];
    const res = await checkout(items);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { checkout: "created" });
    assert.equal(forwarded.length, 1);
    assert.equal(forwarded[0]?.path, "/checkout?cart=42");
    assert.deepEqual(JSON.parse(forwarded[0]?.body ?? ""), { items });
  });

  it("answers 409 with the short lines", async () => {
    const res = await checkout([{ sku: "SKU-123", variantKey: "size:M", quantity: 3 }, { sku: "MUG", quantity: 1 }]);
    assert.equal(res.status, 409);
    assert.deepEqual(await res.json(), { error: "insufficient_stock", items: [{ sku: "SKU-123", variantKey: "size:M", requested: 3, available: 2 }] });
    assert.equal(forwarded.length, 1, "nothing more was forwarded");
  });

  it("answers 400 for a malformed cart", async () => {
    const res = await checkout([{ sku: "SKU-123", quantity: 0 }]);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: string; details: unknown[] };
    assert.equal(body.error, "invalid_cart");
    assert.ok(body.details.length > 0);
  });

  it("fails closed with 503 once the authority has stopped", async () => {
    await own.stop();
    const res = await checkout([{ sku: "MUG", quantity: 1 }]);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: "inventory_unavailable" });
    assert.equal(forwarded.length, 1);
  });
});
