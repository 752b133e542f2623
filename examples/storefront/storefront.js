// A storefront's product list with live stock badges, straight from the
// browser: one read of checkoutd's public availability, then its event
// stream. No build step and no library: EventSource reconnects by itself,
// and every (re)connection begins with the current state of every line.
"use strict";

// The demo shop's products (checkoutd dev stocks them); a page for another
// shop names its SKUs in the address: ?shop=acme&sku=TEE&sku=MUG.
const DEMO_SKUS = ["SHIRT-LINEN", "MUG-LOGO", "POSTER-A2", "TOTE-CANVAS", "CAP-WOOL"];
const NAMES = {
  "SHIRT-LINEN": "Linen shirt",
  "MUG-LOGO": "Logo mug",
  "POSTER-A2": "Poster, A2",
  "TOTE-CANVAS": "Canvas tote",
  "CAP-WOOL": "Wool cap",
};

const params = new URLSearchParams(location.search);
const api = (params.get("api") || location.origin).replace(/\/$/, "");
const shop = params.get("shop") || "demo";
const skus = params.getAll("sku").length ? params.getAll("sku") : DEMO_SKUS;
const base = `${api}/api/public/shops/${encodeURIComponent(shop)}/availability`;
const query = skus.map((s) => "sku=" + encodeURIComponent(s)).join("&");

const list = document.getElementById("products");
const status = document.getElementById("status");

// badge is the seed's StockBadge: its four states, in its order.
function badge(item) {
  if (item.available === 0 && !item.backorderAllowed) return { state: "out", text: "Out of Stock" };
  if (item.available === 0 && item.backorderAllowed) return { state: "backorder", text: "Available for Backorder" };
  if (item.lowStock) return { state: "low", text: `Only ${item.available} left` };
  return { state: "in-stock", text: "In Stock" };
}

// Cards are kept in (sku, variantKey) order, the API's.
function lineKey(item) {
  return item.sku + "|" + item.variantKey;
}

function card(item) {
  const key = lineKey(item);
  let li = list.querySelector(`li[data-line="${CSS.escape(key)}"]`);
  if (li) return li;
  li = document.createElement("li");
  li.className = "product";
  li.dataset.line = key;
  li.dataset.sku = item.sku;
  li.dataset.variant = item.variantKey;
  const title = document.createElement("h2");
  title.textContent = NAMES[item.sku] || item.sku;
  const variant = document.createElement("p");
  variant.className = "variant";
  variant.textContent = item.variantKey || "\u00a0";
  const b = document.createElement("span");
  b.className = "badge";
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Add to Cart";
  li.append(title, variant, b, button);
  const after = [...list.children].find((c) => c.dataset.line > key);
  list.insertBefore(li, after || null);
  document.getElementById("empty").hidden = true;
  return li;
}

function show(item) {
  const li = card(item);
  const { state, text } = badge(item);
  const b = li.querySelector(".badge");
  b.dataset.state = state;
  b.textContent = text;
  const button = li.querySelector("button");
  button.disabled = state === "out";
  button.textContent = state === "out" ? "Out of Stock" : "Add to Cart";
}

function setStatus(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

// The first paint comes from one plain read (cacheable by a CDN); the
// stream then keeps it right.
async function load() {
  const resp = await fetch(`${base}?${query}`);
  if (!resp.ok) {
    const body = await resp.json().catch(() => ({}));
    throw new Error(body.message || resp.statusText);
  }
  const { items } = await resp.json();
  items.forEach(show);
  if (items.length === 0) document.getElementById("empty").hidden = false;
}

function follow() {
  const events = new EventSource(`${base}/stream?${query}`);
  events.addEventListener("open", () => setStatus("live", "live"));
  events.addEventListener("stock", (e) => show(JSON.parse(e.data)));
  events.addEventListener("error", () => {
    if (events.readyState === EventSource.CLOSED) {
      // Refused (429, 404, 503): EventSource gives up, so try again later.
      setStatus("failed", "disconnected; retrying in 5 s");
      setTimeout(follow, 5000);
    } else {
      setStatus("reconnecting", "reconnecting…");
    }
  });
}

load()
  .catch((err) => setStatus("failed", `could not read stock: ${err.message}`))
  .finally(follow);
