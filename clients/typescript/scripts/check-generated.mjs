// Fails when src/generated/openapi.ts is not what `npm run generate` makes
// from docs/openapi.yaml now: the spec changed and the types were not
// regenerated (or someone edited the generated file).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const committed = "src/generated/openapi.ts";
const dir = mkdtempSync(join(tmpdir(), "checkoutd-openapi-"));
try {
  const fresh = join(dir, "openapi.ts");
  execFileSync("npx", ["--no-install", "openapi-typescript", "../../docs/openapi.yaml", "--default-non-nullable=false", "-o", fresh], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (readFileSync(fresh, "utf8") !== readFileSync(committed, "utf8")) {
    console.error(`${committed} is stale: docs/openapi.yaml changed. Run 'npm run generate' in clients/typescript and commit the result.`);
    process.exit(1);
  }
  console.log(`${committed} is up to date with docs/openapi.yaml`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
