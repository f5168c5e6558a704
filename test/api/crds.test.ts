// The CRDs come from the same schemas as the TypeScript types: the committed deploy/crds/ must
// be what `npm run gen:crds` writes, and what the schemas accept is what the controller trusts.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { Backup } from "../../src/api/backup.js";
import { allCustomResourceDefinitions, crdFiles } from "../../src/api/crds.js";
import { KINDS } from "../../src/api/kinds.js";
import { checkValue, toStructural } from "../../src/api/schema.js";

const dir = fileURLToPath(new URL("../../deploy/crds/", import.meta.url));

/** Every node of a structural schema says its type, or keeps unknown fields on purpose. */
function untyped(schema: Record<string, unknown>, path = ""): string[] {
  const out: string[] = [];
  if (schema.type === undefined && !schema["x-kubernetes-preserve-unknown-fields"]) out.push(path || "/");
  if (schema.anyOf || schema.oneOf || schema.const !== undefined || schema.patternProperties)
    out.push(`${path}: not structural`);
  for (const [k, v] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>))
    out.push(...untyped(v, `${path}/${k}`));
  if (schema.items) out.push(...untyped(schema.items as Record<string, unknown>, `${path}[]`));
  if (typeof schema.additionalProperties === "object")
    out.push(...untyped(schema.additionalProperties as Record<string, unknown>, `${path}{}`));
  return out;
}

describe("CRDs", () => {
  it("are committed exactly as npm run gen:crds writes them", () => {
    const files = crdFiles();
    assert.deepEqual(readdirSync(dir).sort(), files.map((f) => f.file).sort(), "run npm run gen:crds");
    for (const { file, text } of files)
      assert.equal(readFileSync(join(dir, file), "utf8"), text, `${file} is stale: run npm run gen:crds`);
  });

  it("have structural schemas, the status subresource and the printer columns kubectl shows", () => {
    for (const crd of allCustomResourceDefinitions()) {
      const [version] = crd.spec.versions;
      assert.deepEqual(
        untyped(version?.schema.openAPIV3Schema as Record<string, unknown>),
        [],
        crd.metadata.name,
      );
      assert.deepEqual(version?.subresources, { status: {} });
      assert.ok(
        version?.additionalPrinterColumns.some((c) => c.jsonPath === ".status.phase"),
        crd.metadata.name,
      );
    }
    const backups = KINDS.Backup.columns.map((c) => c.name);
    for (const wanted of ["Phase", "Items", "Age", "Expires"]) assert.ok(backups.includes(wanted), wanted);
  });

  it("turn unions of literals into enums and maps into additionalProperties", () => {
    const spec = toStructural(KINDS.Restore.schema).properties as Record<string, Record<string, unknown>>;
    const fields = (spec.spec?.properties ?? {}) as Record<string, Record<string, unknown>>;
    assert.deepEqual(fields.existingResourcePolicy?.enum, ["none", "update"]);
    assert.deepEqual(fields.namespaceMapping?.additionalProperties, { type: "string" });
  });

  it("check what the server hands over, naming the object and the wrong field", () => {
    const good = { apiVersion: "arca.dev/v1alpha1", kind: "Backup", metadata: { name: "b" }, spec: {} };
    checkValue(Backup, good, "Backup velero/b");
    assert.throws(
      () => checkValue(Backup, { ...good, spec: { includedNamespaces: "all" } }, "Backup velero/b"),
      /Backup velero\/b is malformed: \/spec\/includedNamespaces/,
    );
    assert.throws(
      () => checkValue(Backup, { ...good, status: { phase: "Done" } }, "Backup velero/b"),
      /\/status\/phase/,
    );
  });
});
