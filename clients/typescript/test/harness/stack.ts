// A real checkoutd for the tests: built from this repository, on a database
// of its own (created on the server scripts/with-postgres names), talking to
// stripe-mock. The runner starts one shared server; tests that must stop a
// server start their own with startServer.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository's root: clients/typescript/.build/test/harness → up five. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../../../..");

/** What the runner hands the test files, through the environment. */
export interface StackEnv {
  CHECKOUTD_URL: string;
  CHECKOUTD_TOKEN: string;
  CHECKOUTD_BIN: string;
  CHECKOUTD_DATABASE_URL: string;
  CHECKOUTD_STRIPE_API_BASE: string;
}

/** A running checkoutd serve. */
export interface Server {
  url: string;
  token: string;
  stop(): Promise<void>;
  log: string;
}

/** A free loopback port, for a child to listen on. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      s.close(() => (typeof addr === "object" && addr ? res(addr.port) : rej(new Error("no port"))));
    });
  });
}

/** Builds ./cmd/checkoutd into dir and returns the binary's path. */
export async function buildCheckoutd(dir: string): Promise<string> {
  const bin = join(dir, "checkoutd");
  await run("go", ["build", "-o", bin, "./cmd/checkoutd"], { cwd: repoRoot });
  return bin;
}

function psqlPath(): string {
  const onPath = (process.env["PATH"] ?? "").split(":").map((d) => join(d, "psql")).find((p) => existsSync(p));
  if (onPath) return onPath;
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = join(base, v, "bin", "psql");
    if (existsSync(p)) return p;
  }
  throw new Error("psql not found: install the PostgreSQL client, or run under scripts/with-postgres");
}

/** Creates a fresh database on the server of serverUrl and returns its URL. */
export async function createDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = "checkoutd_ts_" + randomBytes(6).toString("hex");
  const psql = psqlPath();
  await run(psql, [serverUrl, "-v", "ON_ERROR_STOP=1", "-qc", `CREATE DATABASE ${name}`]);
  const u = new URL(serverUrl);
  u.pathname = "/" + name;
  return {
    url: u.toString(),
    drop: async () => {
      await run(psql, [serverUrl, "-v", "ON_ERROR_STOP=1", "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
    },
  };
}

/** Runs a checkoutd subcommand on the database and returns its stdout. */
export async function checkoutd(bin: string, databaseUrl: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(bin, args, { env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "warn" } });
  return stdout;
}

async function waitFor(url: string, child: ChildProcess, what: string, logFile?: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.text();
      if (res.status < 500) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const log = logFile && existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-4000) : "";
  throw new Error(`${what} did not come up at ${url}${child.exitCode !== null ? ` (exited ${child.exitCode})` : ""}\n${log}`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((res) => {
      if (child.exitCode !== null || child.signalCode !== null) return res();
      child.once("exit", () => res());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    });
}

/** Starts stripe-mock (STRIPE_MOCK_BIN, else on PATH or in GOPATH/bin) and returns its base URL. */
export async function startStripeMock(): Promise<{ base: string; stop(): Promise<void> }> {
  let bin = process.env["STRIPE_MOCK_BIN"];
  if (!bin) {
    const { stdout } = await run("go", ["env", "GOPATH"]);
    const candidates = [...(process.env["PATH"] ?? "").split(":"), join(stdout.trim(), "bin")].map((d) => join(d, "stripe-mock"));
    bin = candidates.find((p) => existsSync(p));
  }
  if (!bin || !existsSync(bin)) throw new Error("stripe-mock is not installed: run 'make stripe-mock'");
  const port = await freePort();
  const child = spawn(bin, ["-http-addr", `127.0.0.1:${port}`, "-https-addr", "127.0.0.1:0"], { stdio: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(base + "/v1/charges", child, "stripe-mock");
  return { base, stop: stopper(child) };
}

/** Starts `checkoutd serve` on a free port and waits until it is ready. */
export async function startServer(opts: { bin: string; databaseUrl: string; stripeBase: string; token?: string; env?: Record<string, string> }): Promise<Server> {
  const port = await freePort();
  const token = opts.token ?? "tok_" + randomBytes(16).toString("hex");
  const logDir = mkdtempSync(join(tmpdir(), "checkoutd-ts-log-"));
  const log = join(logDir, "server.log");
  const out = openSync(log, "a");
  const child = spawn(opts.bin, ["serve"], {
    stdio: ["ignore", out, out],
    env: {
      ...process.env,
      DATABASE_URL: opts.databaseUrl,
      HTTP_ADDR: `127.0.0.1:${port}`,
      INVENTORY_AUTHORITY_TOKEN: token,
      INVENTORY_MODE: "reserve_ttl",
      STRIPE_SECRET_KEY: "sk_test_checkoutdts",
      STRIPE_API_BASE: opts.stripeBase,
      STRIPE_WEBHOOK_SECRET: "whsec_checkoutd_ts",
      DATABASE_MAX_CONNS: "8",
      JOB_WORKERS: "2",
      LOG_LEVEL: "warn",
      ...opts.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(url + "/readyz", child, "checkoutd serve", log);
  const stop = stopper(child);
  return {
    url,
    token,
    log,
    stop: async () => {
      await stop();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}
