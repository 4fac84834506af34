// Validate every committed AsyncAPI document with @asyncapi/parser; any error fails CI.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Parser } from "@asyncapi/parser";

const dir = process.argv[2] ?? "docs/asyncapi";
const parser = new Parser();
let failed = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith(".json")).sort()) {
  const { diagnostics } = await parser.parse(readFileSync(join(dir, name), "utf8"));
  const errors = diagnostics.filter((d) => d.severity === 0);
  const warnings = diagnostics.filter((d) => d.severity === 1);
  console.log(`${name}: ${errors.length} errors, ${warnings.length} warnings`);
  for (const d of [...errors, ...warnings]) {
    console.log(`  ${d.severity === 0 ? "error" : "warning"} ${d.code} ${d.path.join("/")}: ${d.message}`);
  }
  failed += errors.length;
}
process.exit(failed ? 1 : 0);
