import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { packageVersion } from "../../src/cli/versions.js";
import { runArca } from "./run.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

describe("arca version", () => {
  it("prints Arca's version and the client APIs it speaks", async () => {
    const { code, stdout } = await runArca(["version"]);
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^Arca: +${pkg.version.replace(/\./g, "\\.")}$`, "m"));
    assert.match(stdout, /^Repository format: +restic v2$/m);
    assert.match(stdout, /^Kubernetes API: +raw JSON/m);
  });

  it("prints JSON with -o json", async () => {
    const { code, stdout } = await runArca(["version", "-o", "json"]);
    assert.equal(code, 0);
    const info = JSON.parse(stdout) as { arca: string; dependencies: Record<string, string> };
    assert.equal(info.arca, pkg.version);
    assert.equal(info.dependencies["@aws-sdk/client-s3"], packageVersion("@aws-sdk/client-s3"));
  });

  it("rejects an unknown output format with a non-zero exit", async () => {
    const { code, stderr } = await runArca(["version", "-o", "xml"]);
    assert.notEqual(code, 0);
    assert.match(stderr, /xml/);
  });
});
