import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runArca } from "./run.js";

describe("arca policy", () => {
  it("prints the bucket-scoped RAM policy for Alibaba Cloud", async () => {
    const { code, stdout } = await runArca(["policy", "--provider", "alibabacloud", "--bucket", "mybackups"]);
    assert.equal(code, 0);
    const policy = JSON.parse(stdout) as {
      Version: string;
      Statement: Array<{ Effect: string; Action: string[]; Resource: string[] }>;
    };
    assert.equal(policy.Version, "1");
    assert.equal(policy.Statement.length, 1);
    assert.deepEqual([...(policy.Statement[0]?.Action ?? [])].sort(), [
      "oss:DeleteObject",
      "oss:GetBucket",
      "oss:GetObject",
      "oss:ListBuckets",
      "oss:ListObjects",
      "oss:PutObject",
    ]);
    assert.deepEqual(policy.Statement[0]?.Resource, ["acs:oss:*:*:mybackups", "acs:oss:*:*:mybackups/*"]);
  });

  it("covers every bucket without --bucket", async () => {
    const { stdout } = await runArca(["policy", "--provider", "alibabacloud"]);
    assert.deepEqual(
      (JSON.parse(stdout) as { Statement: Array<{ Resource: string[] }> }).Statement[0]?.Resource,
      ["*"],
    );
  });

  it("prints the IAM equivalent for AWS, object and bucket actions on their own resources", async () => {
    const { code, stdout } = await runArca(["policy", "--provider", "aws", "--bucket", "mybackups"]);
    assert.equal(code, 0);
    const policy = JSON.parse(stdout) as {
      Version: string;
      Statement: Array<{ Action: string[]; Resource: string[] }>;
    };
    assert.equal(policy.Version, "2012-10-17");
    const objects = policy.Statement.find((s) => s.Action.includes("s3:PutObject"));
    const bucket = policy.Statement.find((s) => s.Action.includes("s3:ListBucket"));
    assert.deepEqual(objects?.Resource, ["arn:aws:s3:::mybackups/*"]);
    assert.deepEqual(bucket?.Resource, ["arn:aws:s3:::mybackups"]);
  });

  it("rejects an unknown provider and a bad bucket name", async () => {
    assert.notEqual((await runArca(["policy", "--provider", "gcp"])).code, 0);
    const bad = await runArca(["policy", "--provider", "aws", "--bucket", "Bad_Name"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /invalid bucket name/);
  });
});
