// The public availability helpers and the event streams, against a fake
// fetch and a fake EventSource, for what a real server will not do on cue
// (broken streams, reconnects); public.test.ts runs them end to end.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  InventoryAPIError,
  InventoryAuthorityClient,
  InventoryUnavailableError,
  PublicAvailabilityClient,
  type AvailabilityItem,
  type StockEvent,
} from "../src/index.js";
import { SSEParser, type SSEMessage } from "../src/sse.js";
import { FakeEventSource, eventStream, fakeFetch, json } from "./harness/fakes.js";

const item = (sku: string, available: number): AvailabilityItem => ({ sku, variantKey: "", available, lowStock: available <= 1, backorderAllowed: false });

/** Resolves once cond holds, polling; fails after a second. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 1000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("SSEParser", () => {
  it("parses events, ids, retry, comments and multi-line data split anywhere, CRLF included", () => {
    const text = ": heartbeat\r\nretry: 2500\r\nevent: stock\r\nid: 7\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata:plain\n\nevent: other\ndata: x\nid: 8\n\n";
    for (const size of [1, 2, 3, 7, text.length]) {
      const parser = new SSEParser();
      const got: SSEMessage[] = [];
      for (let i = 0; i < text.length; i += size) parser.feed(text.slice(i, i + size), (m) => got.push(m));
      assert.deepEqual(got, [
        { event: "stock", data: '{"a":\n1}', id: "7" },
        { event: "message", data: "plain", id: "7" },
        { event: "other", data: "x", id: "8" },
      ], `chunks of ${size}`);
      assert.equal(parser.retry, 2500);
      assert.equal(parser.lastEventId, "8");
    }
  });
});

describe("PublicAvailabilityClient.availability", () => {
  it("asks for the SKUs without a token and returns the items", async () => {
    const fetch = fakeFetch(() => json(200, { items: [item("A", 3), item("B", 0)] }));
    const pub = new PublicAvailabilityClient({ baseUrl: "https://inv.example/", fetch });
    assert.deepEqual(await pub.availability("acme", ["A", "B/1"]), [item("A", 3), item("B", 0)]);
    assert.equal(fetch.seen[0]?.url, "https://inv.example/api/public/shops/acme/availability?sku=A&sku=B%2F1");
    assert.equal(fetch.seen[0]?.headers["authorization"], undefined);
    assert.throws(() => pub.subscribeAvailability("acme", [], () => {}), /skus is empty/);
    await assert.rejects(pub.availability("acme", []), /skus is empty/);
  });

  it("maps a shop that is not public to a 404 InventoryAPIError and a 429 to retryAfterMs", async () => {
    let pub = new PublicAvailabilityClient({ baseUrl: "https://inv.example", fetch: fakeFetch(() => json(404, { error: "not_found", message: "shop not found" })) });
    await assert.rejects(pub.availability("acme", ["A"]), (e) => e instanceof InventoryAPIError && e.status === 404 && e.code === "not_found");
    pub = new PublicAvailabilityClient({ baseUrl: "https://inv.example", fetch: fakeFetch(() => json(429, { error: "rate_limited", retryAfter: 800 }, { "Retry-After": "1" })) });
    await assert.rejects(pub.availability("acme", ["A"]), (e) => e instanceof InventoryAPIError && e.retryAfterMs === 800);
  });
});

describe("PublicAvailabilityClient.subscribeAvailability with EventSource", () => {
  it("delivers each stock event and stops on close", () => {
    FakeEventSource.instances = [];
    const pub = new PublicAvailabilityClient({ baseUrl: "https://inv.example", EventSource: FakeEventSource, fetch: fakeFetch(() => json(500, {})) });
    const got: AvailabilityItem[] = [];
    const errors: Error[] = [];
    const sub = pub.subscribeAvailability("acme", ["A", "B"], (i) => got.push(i), { onError: (e) => errors.push(e) });
    const es = FakeEventSource.instances[0];
    assert.ok(es);
    assert.equal(es.url, "https://inv.example/api/public/shops/acme/availability/stream?sku=A&sku=B");
    es.emit("stock", JSON.stringify(item("A", 3)), "1");
    es.emit("other", "{}", "2");
    es.emit("stock", "not json", "3");
    es.fail(false);
    es.emit("stock", JSON.stringify(item("A", 2)), "4");
    assert.deepEqual(got, [item("A", 3), item("A", 2)]);
    assert.equal(errors.length, 2);
    assert.ok(errors.every((e) => e instanceof InventoryUnavailableError));
    assert.equal(sub.closed, false);
    sub.close();
    assert.ok(es.closed);
    assert.equal(sub.closed, true);
    es.emit("stock", JSON.stringify(item("A", 1)), "5");
    assert.equal(got.length, 2);
  });

  it("tells why when the browser gives up for good, by asking the plain route once", async () => {
    FakeEventSource.instances = [];
    const fetch = fakeFetch(() => json(404, { error: "not_found", message: "shop not found" }));
    const pub = new PublicAvailabilityClient({ baseUrl: "https://inv.example", EventSource: FakeEventSource, fetch });
    const errors: Error[] = [];
    const sub = pub.subscribeAvailability("acme", ["A"], () => {}, { onError: (e) => errors.push(e) });
    FakeEventSource.instances[0]?.fail(true);
    await until(() => errors.length === 1, "the error");
    assert.ok(errors[0] instanceof InventoryAPIError && errors[0].status === 404);
    assert.equal(sub.closed, true);
    assert.equal(fetch.seen[0]?.url, "https://inv.example/api/public/shops/acme/availability?sku=A");
  });

  it("closes when its signal aborts", () => {
    FakeEventSource.instances = [];
    const pub = new PublicAvailabilityClient({ baseUrl: "https://inv.example", EventSource: FakeEventSource });
    const ac = new AbortController();
    const sub = pub.subscribeAvailability("acme", ["A"], () => {}, { signal: ac.signal });
    ac.abort();
    assert.ok(sub.closed && FakeEventSource.instances[0]?.closed);
  });
});

describe("streams over fetch", () => {
  it("subscribeAvailability without EventSource streams over fetch and resumes with Last-Event-ID", async () => {
    const streams = [eventStream(), eventStream()];
    let n = 0;
    const fetch = fakeFetch(() => {
      const s = streams[n++];
      return s ? s.response : json(500, {});
    });
    const pub = new PublicAvailabilityClient({ baseUrl: "https://inv.example", fetch, EventSource: null });
    const got: AvailabilityItem[] = [];
    const errors: Error[] = [];
    const sub = pub.subscribeAvailability("acme", ["A"], (i) => got.push(i), { onError: (e) => errors.push(e) });
    await until(() => fetch.seen.length === 1, "the first connection");
    assert.equal(fetch.seen[0]?.headers["accept"], "text/event-stream");
    assert.equal(fetch.seen[0]?.headers["last-event-id"], undefined);
    streams[0]?.push("retry: 10\n: heartbeat\n\nevent: stock\nid: 41\ndata: " + JSON.stringify(item("A", 3)) + "\n\n");
    await until(() => got.length === 1, "the first event");
    streams[0]?.end();
    await until(() => fetch.seen.length === 2, "the reconnection");
    assert.equal(fetch.seen[1]?.headers["last-event-id"], "41");
    assert.ok(errors[0] instanceof InventoryUnavailableError);
    streams[1]?.push("event: stock\nid: 42\ndata: " + JSON.stringify(item("A", 2)) + "\n\n");
    await until(() => got.length === 2, "the second event");
    assert.deepEqual(got, [item("A", 3), item("A", 2)]);
    sub.close();
    assert.equal(sub.closed, true);
  });

  it("stops for good on a 404 and waits out a 429", async () => {
    const fetch = fakeFetch(() => json(404, { error: "not_found", message: "shop not found" }));
    const pub = new PublicAvailabilityClient({ baseUrl: "https://inv.example", fetch, EventSource: null });
    const errors: Error[] = [];
    const sub = pub.subscribeAvailability("acme", ["A"], () => {}, { onError: (e) => errors.push(e) });
    await until(() => sub.closed, "the subscription to close");
    assert.equal(fetch.seen.length, 1);
    assert.ok(errors[0] instanceof InventoryAPIError && errors[0].status === 404);

    let calls = 0;
    const busy = fakeFetch(() => (++calls === 1 ? json(429, { error: "rate_limited", retryAfter: 30 }) : eventStream().response));
    const sub2 = new PublicAvailabilityClient({ baseUrl: "https://inv.example", fetch: busy, EventSource: null }).subscribeAvailability("acme", ["A"], () => {});
    await until(() => busy.seen.length === 2, "the retry after the 429");
    sub2.close();
  });

  it("reconnects when not even a heartbeat arrives within idleTimeout", async () => {
    const fetch = fakeFetch(() => eventStream().response);
    const pub = new PublicAvailabilityClient({ baseUrl: "https://inv.example", fetch, EventSource: null });
    const errors: Error[] = [];
    const sub = pub.subscribeAvailability("acme", ["A"], () => {}, { idleTimeout: 30, onError: (e) => errors.push(e) });
    // The default retry is 3 s; the idle abort is reported at once.
    await until(() => errors.length === 1, "the idle report");
    assert.match((errors[0] as InventoryUnavailableError).detail, /no event or heartbeat for 30 ms/);
    sub.close();
  });

  it("subscribeStock streams the shop's lines with the token", async () => {
    const stream = eventStream();
    const fetch = fakeFetch(() => stream.response);
    const client = new InventoryAuthorityClient({ baseUrl: "https://inv.example", token: "tok", fetch });
    const got: StockEvent[] = [];
    const sub = client.subscribeStock("acme", (e) => got.push(e));
    const ev: StockEvent = { ...item("A", 3), onHand: 5, reserved: 2 };
    stream.push(`event: stock\nid: 1\ndata: ${JSON.stringify(ev)}\n\n`);
    await until(() => got.length === 1, "the event");
    assert.deepEqual(got, [ev]);
    assert.equal(fetch.seen[0]?.url, "https://inv.example/api/inventory/shops/acme/stream");
    assert.equal(fetch.seen[0]?.headers["authorization"], "Bearer tok");
    sub.close();
  });

  it("subscribeStock stops on a wrong token", async () => {
    const fetch = fakeFetch(() => json(401, { error: "unauthorized", message: "bad token" }));
    const client = new InventoryAuthorityClient({ baseUrl: "https://inv.example", token: "tok", fetch });
    const errors: Error[] = [];
    const sub = client.subscribeStock("acme", () => {}, { onError: (e) => errors.push(e) });
    await until(() => sub.closed, "the subscription to close");
    assert.equal(errors[0]?.message, "Inventory authority authentication failed");
  });
});
