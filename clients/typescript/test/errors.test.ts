// How every outcome of a call maps to the package's errors, against a fake
// fetch: the statuses a live server is hard to make give (5xx, 403, 429,
// redirects, a proxy's HTML page).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  InsufficientStockError,
  InventoryAPIError,
  InventoryAuthenticationError,
  InventoryAuthorityClient,
  InventoryBusyError,
  InventoryError,
  InventoryTimeoutError,
  InventoryUnavailableError,
} from "../src/index.js";
import { fakeFetch, hang, json } from "./harness/fakes.js";

function clientAnswering(res: () => Response | Promise<Response>, timeout?: number) {
  const fetch = fakeFetch(() => res());
  const client = new InventoryAuthorityClient({ baseUrl: "https://inv.example/api/inventory/", token: "tok", fetch, ...(timeout ? { timeout } : {}) });
  return { client, fetch };
}

const validate = (c: InventoryAuthorityClient) => c.validate("s1", [{ sku: "A", quantity: 1 }]);

describe("error mapping", () => {
  it("maps 5xx, whatever the body, to InventoryUnavailableError with the seed's message", async () => {
    for (const [status, body] of [
      [503, { error: "inventory_unavailable", message: "the database does not answer" }],
      [500, { error: "internal_error", message: "internal error" }],
      [502, "<html>Bad gateway</html>"],
    ] as const) {
      const { client } = clientAnswering(() => (typeof body === "string" ? new Response(body, { status }) : json(status, body, { "X-Request-Id": "req-1" })));
      const err = await validate(client).then(() => assert.fail("no error"), (e: unknown) => e);
      assert.ok(err instanceof InventoryUnavailableError, `${status}: ${String(err)}`);
      assert.ok(err instanceof InventoryError);
      assert.equal(err.message, "Inventory authority unavailable");
      assert.equal(err.status, status);
      assert.match(err.detail, new RegExp(`HTTP ${status}`));
      if (typeof body !== "string") {
        assert.equal(err.code, body.error);
        assert.equal(err.requestId, "req-1");
      }
    }
  });

  it("maps a connection failure to InventoryUnavailableError", async () => {
    const { client } = clientAnswering(() => Promise.reject(new TypeError("fetch failed", { cause: new Error("connect ECONNREFUSED") })));
    const err = await validate(client).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryUnavailableError);
    assert.equal(err.message, "Inventory authority unavailable");
    assert.equal(err.status, undefined);
    assert.match(err.detail, /ECONNREFUSED/);
  });

  it("maps a 2xx body that is not the API's JSON to InventoryUnavailableError", async () => {
    for (const body of ["<html>captive portal</html>", "null", ""]) {
      const { client } = clientAnswering(() => new Response(body, { status: 200 }));
      await assert.rejects(validate(client), InventoryUnavailableError);
    }
    const { client } = clientAnswering(() => json(200, { valid: true }));
    await assert.rejects(validate(client), /unavailable/);
  });

  it("maps 401 and 403 to InventoryAuthenticationError with the seed's message", async () => {
    for (const status of [401, 403]) {
      const { client } = clientAnswering(() => json(status, { error: status === 401 ? "unauthorized" : "forbidden", message: "no" }));
      const err = await validate(client).catch((e: unknown) => e);
      assert.ok(err instanceof InventoryAuthenticationError);
      assert.equal(err.message, "Inventory authority authentication failed");
      assert.equal(err.status, status);
    }
  });

  it("times out after the timeout with the seed's message, and the caller's timeout overrides", async () => {
    const fetch = fakeFetch((_req, signal) => hang(signal));
    const hanging = new InventoryAuthorityClient({ baseUrl: "https://inv.example", token: "tok", fetch, timeout: 60 });
    const started = Date.now();
    const err = await validate(hanging).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryTimeoutError, String(err));
    assert.equal(err.message, "Inventory authority timeout");
    assert.equal(err.timeoutMs, 60);
    assert.ok(Date.now() - started < 2000);
    const per = await hanging.getStock("s1", "A", "", { timeout: 20 }).catch((e: unknown) => e);
    assert.ok(per instanceof InventoryTimeoutError && per.timeoutMs === 20);
  });

  it("times out while the body is still coming", async () => {
    const fetch = fakeFetch((_req, signal) => {
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"ok":'));
          signal?.addEventListener("abort", () => c.error(signal.reason));
        },
      });
      return new Response(body, { status: 200 });
    });
    const client = new InventoryAuthorityClient({ baseUrl: "https://inv.example", token: "tok", fetch, timeout: 50 });
    await assert.rejects(validate(client), InventoryTimeoutError);
  });

  it("rejects with the caller's reason when the caller aborts, not as an outage", async () => {
    const fetch = fakeFetch((_req, signal) => hang(signal));
    const client = new InventoryAuthorityClient({ baseUrl: "https://inv.example", token: "tok", fetch });
    const ac = new AbortController();
    const p = client.validate("s1", [{ sku: "A", quantity: 1 }], { signal: ac.signal });
    const reason = new Error("user left");
    ac.abort(reason);
    assert.equal(await p.catch((e: unknown) => e), reason);
    await assert.rejects(client.validate("s1", [], { signal: AbortSignal.abort(reason) }), (e) => e === reason);
  });

  it("maps 409 insufficient_stock to InsufficientStockError with its items", async () => {
    const items = [{ sku: "A", variantKey: "size:M", requested: 3, available: 1 }];
    const { client } = clientAnswering(() => json(409, { error: "insufficient_stock", code: "inventory_insufficient", message: "not enough stock", items }));
    const err = await client.createHold("s1", { items: [{ sku: "A", variantKey: "size:M", quantity: 3 }] }).catch((e: unknown) => e);
    assert.ok(err instanceof InsufficientStockError);
    assert.ok(err instanceof InventoryAPIError);
    assert.equal(err.status, 409);
    assert.equal(err.code, "insufficient_stock");
    assert.deepEqual(err.items, items);
    assert.equal(err.body["code"], "inventory_insufficient");
  });

  it("gives 429 a retryAfterMs from the body, else from Retry-After seconds or date", async () => {
    let { client } = clientAnswering(() => json(429, { error: "inventory_busy", message: "busy", retryAfter: 250 }, { "Retry-After": "1" }));
    let err = await validate(client).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryBusyError);
    assert.equal(err.retryAfterMs, 250);

    ({ client } = clientAnswering(() => json(429, { error: "rate_limited", message: "slow down" }, { "Retry-After": "2" })));
    err = await validate(client).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && !(err instanceof InventoryBusyError));
    assert.equal(err.code, "rate_limited");
    assert.equal(err.retryAfterMs, 2000);

    const at = new Date(Date.now() + 5000).toUTCString();
    ({ client } = clientAnswering(() => json(429, { error: "rate_limited" }, { "Retry-After": at })));
    err = await validate(client).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError && err.retryAfterMs !== undefined && err.retryAfterMs > 3000 && err.retryAfterMs <= 5000);
  });

  it("maps other refusals to InventoryAPIError with status, code, details and the server's message", async () => {
    const details = [{ field: "items[0].quantity", issue: "must be from 1 to 1000000" }];
    let { client } = clientAnswering(() => json(400, { error: "invalid_request", message: "the request is invalid", details }, { "X-Request-Id": "r-9" }));
    let err = await validate(client).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError);
    assert.equal(err.status, 400);
    assert.equal(err.code, "invalid_request");
    assert.deepEqual(err.details, details);
    assert.equal(err.requestId, "r-9");
    assert.equal(err.retryAfterMs, undefined);
    assert.match(err.message, /the request is invalid \(HTTP 400 invalid_request\)/);

    ({ client } = clientAnswering(() => json(409, { error: "hold_not_active", message: "hold is released", status: "released" })));
    err = await client.commitHold("s1", "hold_1").catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError);
    assert.equal(err.holdStatus, "released");

    ({ client } = clientAnswering(() => new Response("<html>Not Found</html>", { status: 404 })));
    err = await validate(client).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError);
    assert.equal(err.code, "");
    assert.equal(err.status, 404);
  });

  it("does not follow redirects: the token stays home", async () => {
    const { client, fetch } = clientAnswering(() => new Response(null, { status: 302, headers: { Location: "https://elsewhere.example/" } }));
    const err = await validate(client).catch((e: unknown) => e);
    assert.ok(err instanceof InventoryAPIError);
    assert.match(err.message, /unexpected redirect to https:\/\/elsewhere\.example\/: check the baseUrl/);
    assert.equal(fetch.seen.length, 1);
  });
});

describe("requests", () => {
  it("sends the token, JSON and escaped paths under the base URL without its /api/inventory", async () => {
    const fetch = fakeFetch(() => json(200, { ok: true }));
    const client = new InventoryAuthorityClient({ baseUrl: "https://inv.example/prefix/api/inventory", token: "tok", fetch });
    assert.equal(client.baseUrl, "https://inv.example/prefix");
    assert.deepEqual(await client.validate("s1", [{ sku: "A", quantity: 2 }]), { ok: true, insufficient: [] });
    await client.getStock("s1", "a/b c", "size:M").catch(() => undefined);
    await assert.rejects(client.getStock("s1", ".."), /cannot be sent in a URL path/);
    await client.createCheckoutSession({ shopId: "s1", mode: "sale", items: [], successUrl: "https://a.example", cancelUrl: "https://a.example" }).catch(() => undefined);
    const [v, g, cs] = fetch.seen;
    assert.equal(v?.url, "https://inv.example/prefix/api/inventory/validate");
    assert.equal(v?.method, "POST");
    assert.equal(v?.headers["authorization"], "Bearer tok");
    assert.equal(v?.headers["content-type"], "application/json");
    assert.deepEqual(v?.body, { shopId: "s1", items: [{ sku: "A", quantity: 2 }] });
    assert.equal(g?.url, "https://inv.example/prefix/api/inventory/shops/s1/stock/a%2Fb%20c?variantKey=size%3AM");
    assert.equal(g?.headers["content-type"], undefined);
    assert.equal(cs?.url, "https://inv.example/prefix/api/checkout/sessions");
  });

  it("calls the shop and location routes as API.md has them", async () => {
    const fetch = fakeFetch((req) => json(req.method === "POST" ? 201 : 200, req.url.endsWith("/locations") && req.method === "GET" ? { items: [{ id: "default", name: "Default", priority: 0 }] } : { id: "x" }));
    const client = new InventoryAuthorityClient({ baseUrl: "https://inv.example", token: "t", fetch });
    assert.deepEqual(await client.createShop({ id: "acme", name: "Acme" }), { id: "x" });
    await client.getShop("acme");
    await client.updateShop("acme", { publicAvailability: true });
    assert.deepEqual(await client.listLocations("acme"), [{ id: "default", name: "Default", priority: 0 }]);
    await client.createLocation("acme", { id: "berlin", name: "Berlin", priority: 10 });
    await client.updateLocation("acme", "berlin", { priority: 5 });
    const base = "https://inv.example/api/inventory/shops";
    assert.deepEqual(
      fetch.seen.map((r) => [r.method, r.url, r.body]),
      [
        ["POST", base, { id: "acme", name: "Acme" }],
        ["GET", `${base}/acme`, undefined],
        ["PATCH", `${base}/acme`, { publicAvailability: true }],
        ["GET", `${base}/acme/locations`, undefined],
        ["POST", `${base}/acme/locations`, { id: "berlin", name: "Berlin", priority: 10 }],
        ["PATCH", `${base}/acme/locations/berlin`, { priority: 5 }],
      ],
    );
  });

  it("refuses a bad configuration at once", () => {
    const fetch = fakeFetch(() => json(200, {}));
    for (const baseUrl of ["", "ftp://x.example", "https://x.example/?a=1", "https://u:p@x.example", "not a url"]) {
      assert.throws(() => new InventoryAuthorityClient({ baseUrl, token: "t", fetch }), TypeError, baseUrl);
    }
    assert.throws(() => new InventoryAuthorityClient({ baseUrl: "https://x.example", token: "", fetch }), /token is empty/);
    assert.throws(() => new InventoryAuthorityClient({ baseUrl: "https://x.example", token: "a b", fetch }), /whitespace/);
    assert.throws(() => new InventoryAuthorityClient({ baseUrl: "https://x.example", token: "t", fetch, timeout: 0 }), /timeout/);
  });

  it("rejects an empty path identifier instead of calling another route", async () => {
    const fetch = fakeFetch(() => json(200, {}));
    const client = new InventoryAuthorityClient({ baseUrl: "https://x.example", token: "t", fetch });
    await assert.rejects(client.getHold("s1", ""), /holdId is empty/);
    await assert.rejects(client.getShop(""), /shopId is empty/);
    assert.equal(fetch.seen.length, 0);
  });

  it("healthCheck is true on 200 only and never throws", async () => {
    const cases: Array<[() => Response | Promise<Response>, boolean]> = [
      [() => json(200, { status: "ok" }), true],
      [() => json(503, { status: "unavailable" }), false],
      [() => Promise.reject(new TypeError("fetch failed")), false],
      [() => new Promise<Response>(() => {}), false],
    ];
    for (const [answer, want] of cases) {
      const fetch = fakeFetch((_r, signal) => Promise.race([answer(), hang(signal)]));
      const client = new InventoryAuthorityClient({ baseUrl: "https://x.example", token: "t", fetch, timeout: 50 });
      assert.equal(await client.healthCheck(), want);
      assert.equal(fetch.seen[0]?.url, "https://x.example/api/inventory/health");
      assert.equal(fetch.seen[0]?.headers["authorization"], undefined);
    }
  });
});
