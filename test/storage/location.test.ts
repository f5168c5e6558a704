import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatLocation, parseLocation, redactUrl } from "../../src/storage/index.js";

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

describe("a location URL with a secret in it", () => {
  // What a user might paste: keys as userinfo (an AWS secret may hold '/' and '+'), in the
  // endpoint, or as a parameter Arca does not know.
  const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKEY";
  const KEY = "AKIAIOSFODNN7EXAMPLE";
  const cases: Array<[string, string]> = [
    [`s3://${KEY}:${SECRET}@bucket/p`, "s3://***@bucket/p"],
    [`s3://${KEY}:${SECRET}@bucket/p?region=eu-west-1`, "s3://***@bucket/p?region=eu-west-1"],
    [`oss://${KEY}:${SECRET}@bucket?region=cn-hangzhou`, "oss://***@bucket?region=cn-hangzhou"],
    [`s3://${KEY}@bucket/p`, "s3://***@bucket/p"],
    [`s3://${KEY}:1${SECRET}@bucket/p`, "s3://***@bucket/p"],
    [`s3://${KEY}:/${SECRET}@bucket/p`, "s3://***@bucket/p"],
    [`s3://${KEY}:a#b?c${SECRET}@bucket/p`, "s3://***@bucket/p"],
    [
      `s3://bucket/p?endpoint=http://${KEY}:${SECRET}@127.0.0.1:9000`,
      "s3://bucket/p?endpoint=http://***@127.0.0.1:9000",
    ],
    [
      `s3://bucket/p?endpoint=${encodeURIComponent(`http://${KEY}:${SECRET}@minio`)}`,
      "s3://bucket/p?endpoint=http://***@minio",
    ],
    [`s3://bucket/p?endpoint=${KEY}:${SECRET}@minio`, "s3://bucket/p?endpoint=***@minio"],
    [`s3://bucket/p?accessKey=${KEY}&secretKey=${SECRET}`, "s3://bucket/p?accessKey=***&secretKey=***"],
  ];
  for (const [url, shown] of cases) {
    it(`is refused without echoing the key: ${shown}`, () => {
      assert.throws(
        () => parseLocation(url),
        (err: Error & { hint?: string }) => {
          const text = `${err.message}\n${err.hint ?? ""}`;
          assert.ok(!text.includes(SECRET) && !text.includes(SECRET.slice(0, 8)), text);
          assert.ok(!text.includes(KEY), text);
          assert.ok(text.includes(`"${shown}"`), text);
          return true;
        },
      );
      assert.equal(redactUrl(url), shown);
    });
  }

  it("leaves a URL without one as it is, '@' in a prefix included", () => {
    for (const url of [
      "s3://bucket/team@example/p?region=eu-west-1&endpoint=http://127.0.0.1:9000",
      "file:///var/backups/a@b",
    ]) {
      assert.equal(redactUrl(url), url);
      parseLocation(url);
    }
  });
});
