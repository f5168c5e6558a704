import { after, before, describe } from "node:test";
import { openStore, type ObjectStore } from "../../src/storage/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { uniqueName } from "../support/wait.js";
import { objectStoreContract } from "./contract.js";

describe("s3:// store on a real S3 server (MinIO)", () => {
  let env: TestEnvironment;
  let bucket: string;
  const stores: ObjectStore[] = [];

  before(async () => {
    env = await testEnvironment();
    bucket = await env.s3.createBucket();
  });
  after(async () => {
    stores.forEach((s) => s.close());
    await env?.stop();
  });

  // Each test works under its own prefix of one bucket, which is also how prefixes are used.
  objectStoreContract(() => {
    const store = openStore(
      `s3://${bucket}/${uniqueName("p")}?region=${env.s3.region}&endpoint=${env.s3.endpoint}&forcePathStyle=true`,
      {
        s3Credentials: { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
      },
    );
    stores.push(store);
    return store;
  });
});
