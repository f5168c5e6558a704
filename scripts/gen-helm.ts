// Writes deploy/helm/arca from the install manifests (src/install/helm.ts).
// test/install/helm.test.ts fails when the committed files differ from what this writes.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { helmChartFiles } from "../src/install/helm.js";

const chart = join(import.meta.dirname, "..", "deploy", "helm", "arca");
const files = helmChartFiles();
for (const entry of await readdir(chart, { recursive: true, withFileTypes: true }).catch(() => [])) {
  const path = relative(chart, join(entry.parentPath, entry.name));
  if (entry.isFile() && !files.some((f) => f.file === path)) await rm(join(chart, path));
}
for (const { file, text } of files) {
  await mkdir(dirname(join(chart, file)), { recursive: true });
  await writeFile(join(chart, file), text);
}
console.log(`wrote the Helm chart (${files.length} files) to ${chart}`);
