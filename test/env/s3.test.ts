// The test object store is a real S3 server: objects are put, got, listed by prefix,
// range-read and deleted over the S3 API with the AWS SDK.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { statusOf } from "../support/wait.js";
import { testEnvironment, type TestEnvironment } from "./environment.js";
import { startS3Server } from "./s3.js";

function httpStatus(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  return meta?.httpStatusCode ?? statusOf(err);
}

describe("test S3 server", () => {
  let env: TestEnvironment;
  let s3: S3Client;
  let bucket: string;

  before(async () => {
    env = await testEnvironment();
    s3 = env.s3.client();
    bucket = await env.s3.createBucket();
  });
  after(async () => {
    s3?.destroy();
    await env?.stop();
  });

  it("puts, gets, lists by prefix, range-reads and deletes objects", async () => {
    const body = Buffer.from("0123456789abcdefghij");
    for (const key of ["data/aa/1", "data/aa/2", "data/bb/3", "keys/k1"]) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    }

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "data/aa/1" }));
    assert.deepEqual(Buffer.from(await got.Body!.transformToByteArray()), body);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "data/aa/" }));
    assert.deepEqual(
      listed.Contents?.map((o) => o.Key),
      ["data/aa/1", "data/aa/2"],
    );
    const dirs = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "data/", Delimiter: "/" }));
    assert.deepEqual(
      dirs.CommonPrefixes?.map((p) => p.Prefix),
      ["data/aa/", "data/bb/"],
    );

    const ranged = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: "data/bb/3", Range: "bytes=10-14" }),
    );
    assert.equal(Buffer.from(await ranged.Body!.transformToByteArray()).toString(), "abcde");

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "keys/k1" }));
    await assert.rejects(
      s3.send(new HeadObjectCommand({ Bucket: bucket, Key: "keys/k1" })),
      (err) => httpStatus(err) === 404,
    );
  });

  it("paginates listings", async () => {
    for (let i = 0; i < 5; i++) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `page/${i}`, Body: `${i}` }));
    }
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: "page/", MaxKeys: 2, ContinuationToken: token }),
      );
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ""));
      token = page.NextContinuationToken;
    } while (token);
    assert.deepEqual(keys, ["page/0", "page/1", "page/2", "page/3", "page/4"]);
  });
});

describe("two S3 servers", () => {
  it("stand in for two regions with separate contents", async () => {
    const east = await startS3Server({ name: "east", region: "us-east-1" });
    const west = await startS3Server({ name: "west", region: "eu-west-1" });
    const [ce, cw] = [east.client(), west.client()];
    try {
      await east.createBucket("shared-name");
      await west.createBucket("shared-name");
      await ce.send(new PutObjectCommand({ Bucket: "shared-name", Key: "only-east", Body: "x" }));
      await assert.rejects(
        cw.send(new HeadObjectCommand({ Bucket: "shared-name", Key: "only-east" })),
        (err) => httpStatus(err) === 404,
      );
      assert.equal(west.region, "eu-west-1");
    } finally {
      ce.destroy();
      cw.destroy();
      await east.stop();
      await west.stop();
    }
  });
});
