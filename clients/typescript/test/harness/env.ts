// What a test file needs of the shared server the runner started.
import { randomBytes } from "node:crypto";
import { InventoryAuthorityClient } from "../../src/index.js";
import { checkoutd, type StackEnv } from "./stack.js";

function need(name: keyof StackEnv): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with 'npm test' (test/run.ts starts checkoutd)`);
  return v;
}

/** The shared server. */
export const server = {
  get url() {
    return need("CHECKOUTD_URL");
  },
  get token() {
    return need("CHECKOUTD_TOKEN");
  },
  get bin() {
    return need("CHECKOUTD_BIN");
  },
  get databaseUrl() {
    return need("CHECKOUTD_DATABASE_URL");
  },
  get stripeBase() {
    return need("CHECKOUTD_STRIPE_API_BASE");
  },
};

/** A client of the shared server with the service token. */
export function serviceClient(opts: { timeout?: number } = {}): InventoryAuthorityClient {
  return new InventoryAuthorityClient({ baseUrl: server.url, token: server.token, ...opts });
}

/** A fresh id, for a shop or an idempotency key. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

/** Creates a shop through the CLI, so that tests keep out of each other's way. */
export async function newShop(prefix = "ts"): Promise<string> {
  const id = uniqueId(prefix);
  await checkoutd(server.bin, server.databaseUrl, "shops", "create", id, "--name", `Test ${id}`);
  return id;
}

/** Adds a location to a shop through the CLI. */
export async function addLocation(shopId: string, locationId: string, priority: number): Promise<void> {
  await checkoutd(server.bin, server.databaseUrl, "locations", "add", "--shop", shopId, locationId, "--priority", String(priority));
}

/** Creates a shop API key through the CLI and returns it. */
export async function shopKey(shopId: string): Promise<string> {
  return (await checkoutd(server.bin, server.databaseUrl, "keys", "create", "--shop", shopId)).trim();
}

/** Sets a line's on-hand stock at the default location. */
export async function stock(client: InventoryAuthorityClient, shopId: string, lines: Array<{ sku: string; variantKey?: string; quantity: number; locationId?: string }>): Promise<void> {
  await client.adjust(shopId, {
    reference: "test-setup",
    changes: lines.map((l) => ({ sku: l.sku, variantKey: l.variantKey ?? "", locationId: l.locationId ?? "default", op: "set" as const, quantity: l.quantity })),
  });
}
