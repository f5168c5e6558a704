import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatLocation, parseLocation } from "../../src/storage/index.js";

describe("location URLs", () => {
  it("parses the three kinds", () => {
    assert.deepEqual(parseLocation("file:///var/lib/arca/backups/"), {
      provider: "file",
      path: "/var/lib/arca/backups",
    });
    assert.deepEqual(
      parseLocation(
        "s3://my-bucket/team/prod?region=eu-west-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true",
      ),
      {
        provider: "s3",
        bucket: "my-bucket",
        prefix: "team/prod",
        region: "eu-west-1",
        endpoint: "http://127.0.0.1:9000",
        forcePathStyle: true,
      },
    );
    assert.deepEqual(parseLocation("oss://backups?region=cn-hangzhou&network=internal"), {
      provider: "oss",
      bucket: "backups",
      prefix: "",
      region: "cn-hangzhou",
      network: "internal",
      endpoint: undefined,
      forcePathStyle: false,
    });
  });

  it("defaults an s3:// region to us-east-1", () => {
    assert.equal((parseLocation("s3://bucket") as { region: string }).region, "us-east-1");
  });

  it("round-trips through formatLocation", () => {
    for (const url of [
      "file:///var/lib/arca/backups",
      "s3://bucket/a/b?region=us-east-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true",
      "oss://bucket/p?region=cn-hangzhou&network=accelerate",
    ]) {
      assert.equal(formatLocation(parseLocation(url)), url);
    }
  });

  const rejects: Array<[string, RegExp]> = [
    ["not a url", /it is not a URL/],
    ["gs://bucket", /unknown scheme gs/],
    ["s3://AKIA:secret@bucket", /credentials do not belong in the URL/],
    ["s3://bucket?regoin=x", /unknown parameter regoin/],
    ["s3://Bad_Bucket", /bucket name "bad_bucket"|bucket name/],
    ["s3://bucket:9000", /port in endpoint=/],
    ["s3://bucket?endpoint=127.0.0.1:9000", /endpoint.*(not a URL|http)/],
    ["s3://bucket?forcePathStyle=yes", /forcePathStyle must be true or false/],
    ["s3://bucket/a/../b", /'\.\.'/],
    ["file://host/path", /has no host/],
    ["file:///", /file system root/],
  ];
  for (const [url, message] of rejects) {
    it(`rejects ${url}`, () => assert.throws(() => parseLocation(url), message));
  }
});
