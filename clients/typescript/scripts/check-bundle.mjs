// Bundles the package as a Worker or a browser would, for no platform in
// particular, and fails on any import of a Node built-in: the package must
// run on the web platform alone. Prints the minified size, which the
// README records; the check fails when the README's figure is more than
// 10% off.
import { builtinModules } from "node:module";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const offenders = [];
const noNode = {
  name: "no-node-builtins",
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      if (args.path.startsWith("node:") || builtins.has(args.path) || builtins.has(args.path.split("/")[0])) {
        offenders.push(`${args.importer} imports ${args.path}`);
        return { path: args.path, external: true };
      }
      return undefined;
    });
  },
};

const result = await esbuild.build({
  entryPoints: ["src/index.ts"],
  bundle: true,
  minify: true,
  format: "esm",
  platform: "neutral",
  target: "es2022",
  write: false,
  metafile: true,
  logLevel: "silent",
  plugins: [noNode],
});
if (offenders.length > 0) {
  console.error("the package imports Node built-ins:\n  " + offenders.join("\n  "));
  process.exit(1);
}
const outside = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith("src/"));
if (outside.length > 0) {
  console.error("the bundle pulls in code from outside src/ (a runtime dependency?):\n  " + outside.join("\n  "));
  process.exit(1);
}
const code = result.outputFiles[0].contents;
const size = code.length;
const gzip = gzipSync(code).length;
console.log(`bundle: no Node built-ins; ${size} bytes minified, ${gzip} bytes gzipped`);

const m = /minified bundle: ([\d,]+) bytes/.exec(readFileSync("README.md", "utf8"));
const recorded = m ? Number(m[1].replaceAll(",", "")) : NaN;
if (!(Math.abs(recorded - size) <= size * 0.1)) {
  console.error(`README.md records ${m ? m[1] : "no"} bytes for the minified bundle; it is ${size} now. Update the line "minified bundle: ${size} bytes (${gzip} gzipped)".`);
  process.exit(1);
}
