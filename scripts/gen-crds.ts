// Writes deploy/crds/ from the schemas in src/api. test/api/crds.test.ts fails when the
// committed files differ from what this writes.
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crdFiles } from "../src/api/crds.js";

const dir = join(import.meta.dirname, "..", "deploy", "crds");
await mkdir(dir, { recursive: true });
const files = crdFiles();
for (const old of await readdir(dir)) if (!files.some((f) => f.file === old)) await rm(join(dir, old));
for (const { file, text } of files) await writeFile(join(dir, file), text);
console.log(`wrote ${files.length} CRDs to ${dir}`);
