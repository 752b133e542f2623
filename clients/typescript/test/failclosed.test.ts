// The three fail-closed cases with real sockets: a server that stopped, a
// server that never answers, and a wrong token.
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import {
  InventoryAuthenticationError,
  InventoryAuthorityClient,
  InventoryTimeoutError,
  InventoryUnavailableError,
} from "../src/index.js";
import { server, serviceClient } from "./harness/env.js";
import { startServer, type Server } from "./harness/stack.js";

const cart = [{ sku: "SKU-123", variantKey: "size:M", quantity: 2 }];

describe("fail closed", () => {
  it("healthCheck is true while the server is ready", async () => {
    assert.equal(await serviceClient().healthCheck(), true);
  });

  describe("a server that stopped", () => {
    let own: Server;
    before(async () => {
      own = await startServer({ bin: server.bin, databaseUrl: server.databaseUrl, stripeBase: server.stripeBase });
    });
    after(() => own.stop());

    it("is unavailable, and healthCheck turns false", async () => {
      const client = new InventoryAuthorityClient({ baseUrl: own.url, token: own.token });
      assert.equal(await client.healthCheck(), true);
      await own.stop();
      const err = await client.validate("any", cart).catch((e: unknown) => e);
      assert.ok(err instanceof InventoryUnavailableError, String(err));
      assert.equal(err.message, "Inventory authority unavailable");
      assert.match(err.detail, /no answer/);
      assert.equal(await client.healthCheck(), false);
    });
  });

  describe("a server that never answers", () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    let url: string;
    before(async () => {
      await new Promise<void>((res) => silent.listen(0, "127.0.0.1", res));
      const addr = silent.address();
      assert.ok(addr && typeof addr === "object");
      url = `http://127.0.0.1:${addr.port}`;
    });
    after(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((res) => silent.close(res));
    });

    it("times out after the client's timeout", async () => {
      const client = new InventoryAuthorityClient({ baseUrl: url, token: "tok", timeout: 300 });
      const started = Date.now();
      const err = await client.validate("any", cart).catch((e: unknown) => e);
      const took = Date.now() - started;
      assert.ok(err instanceof InventoryTimeoutError, String(err));
      assert.equal(err.message, "Inventory authority timeout");
      assert.equal(err.timeoutMs, 300);
      assert.ok(took >= 290 && took < 3000, `took ${took} ms`);
      assert.equal(await client.healthCheck({ timeout: 100 }), false);
    });
  });

  it("a wrong token fails authentication", async () => {
    const client = new InventoryAuthorityClient({ baseUrl: server.url, token: "not-the-token" });
    const err = await client.validate("any", cart).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAuthenticationError, String(err));
    assert.equal(err.message, "Inventory authority authentication failed");
    assert.equal(err.status, 401);
    assert.ok(err.requestId, "the request id is kept for support");
  });
});
