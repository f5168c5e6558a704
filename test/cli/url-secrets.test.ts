// A key pasted into a location URL is refused, and no command echoes it back: the message
// shows the URL with `***` where the key was, so that it stays out of terminals, CI logs and
// tickets.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runArca } from "./run.js";

const KEY = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY";
const URL = `s3://${KEY}:${SECRET}@backups/prod?region=eu-west-1`;
const SHOWN = "s3://***@backups/prod?region=eu-west-1";
const env = { ...process.env, ARCA_PASSWORD: "a password", KUBECONFIG: "/nonexistent" };

describe("a location URL with keys in it", () => {
  const commands: Array<[string, string[]]> = [
    ["repo snapshots", ["repo", "snapshots", "--repo", URL]],
    ["repo init", ["repo", "init", "--repo", URL]],
    ["fs backup", ["fs", "backup", "--repo", URL, "/tmp"]],
    ["location check", ["location", "check", "--location", URL]],
    ["location create", ["location", "create", "prod", "--url", URL, "--password-secret", "p"]],
    ["install --dry-run", ["install", "--dry-run", "--location", URL]],
    [
      "an endpoint with keys",
      ["repo", "snapshots", "--repo", `s3://backups/prod?endpoint=http://${KEY}:${SECRET}@minio:9000`],
    ],
  ];
  for (const [what, args] of commands) {
    it(`${what}: refused, and the message never holds the key`, async () => {
      const { code, stdout, stderr } = await runArca(args, env);
      assert.equal(code, 1, stdout + stderr);
      const all = stdout + stderr;
      assert.match(stderr, /credentials do not belong in the (URL|endpoint)/);
      assert.ok(!all.includes(SECRET.slice(0, 10)), all);
      assert.ok(!all.includes(KEY), all);
      assert.match(all, /\*\*\*@/);
    });
  }

  it("names the URL with *** where the keys were", async () => {
    const { stderr } = await runArca(["repo", "snapshots", "--repo", URL], env);
    assert.ok(stderr.includes(`"${SHOWN}"`), stderr);
  });
});
