// npm test's last step: starts the shared checkoutd (built from this
// repository, on a database of its own, with stripe-mock), runs the test
// files against it with Node's test runner, and tears everything down.
// DATABASE_URL names the PostgreSQL server to create that database on:
// scripts/with-postgres sets it (make test-typescript runs us under it).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCheckoutd, checkoutd, createDatabase, startServer, startStripeMock, type StackEnv } from "./harness/stack.js";

const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<number> {
  const serverUrl = process.env["DATABASE_URL"];
  if (!serverUrl) {
    console.error("DATABASE_URL is not set: run under scripts/with-postgres, e.g. make test-typescript");
    return 2;
  }
  const binDir = mkdtempSync(join(tmpdir(), "checkoutd-ts-bin-"));
  const cleanups: Array<() => Promise<void>> = [async () => rmSync(binDir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => console.error("cleanup:", err));
    cleanups.length = 0;
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => void cleanup().then(() => process.exit(130)));
  }
  try {
    const started = Date.now();
    const [bin, db, stripe] = await Promise.all([buildCheckoutd(binDir), createDatabase(serverUrl), startStripeMock()]);
    cleanups.push(db.drop, stripe.stop);
    await checkoutd(bin, db.url, "migrate");
    const srv = await startServer({ bin, databaseUrl: db.url, stripeBase: stripe.base });
    cleanups.push(srv.stop);
    console.log(`checkoutd ready at ${srv.url} in ${Date.now() - started} ms`);

    const env: StackEnv = {
      CHECKOUTD_URL: srv.url,
      CHECKOUTD_TOKEN: srv.token,
      CHECKOUTD_BIN: bin,
      CHECKOUTD_DATABASE_URL: db.url,
      CHECKOUTD_STRIPE_API_BASE: stripe.base,
    };
    // Only this folder's *.test.js, not the harness's modules.
    const files = readdirSync(here).filter((f) => f.endsWith(".test.js")).sort().map((f) => join(here, f));
    const code = await new Promise<number>((res) => {
      const child = spawn(process.execPath, ["--test", "--test-concurrency=4", "--test-reporter=spec", ...files], {
        stdio: "inherit",
        env: { ...process.env, ...env },
      });
      child.on("exit", (c, s) => res(c ?? (s ? 1 : 0)));
    });
    if (code !== 0) {
      console.error(`--- the last of the shared checkoutd's log (${srv.log}) ---\n` + readFileSync(srv.log, "utf8").slice(-6000));
    }
    return code;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
