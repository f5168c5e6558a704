// Two processes that find the same location empty both make a repository there (a location's
// validation and the first backup into it, on a fresh install): one wins, the other opens what
// the winner made, and both go on with one repository that restic reads. On file:// and on S3.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Repository } from "../../src/repo/repository.js";
import { openStore, type ObjectStore, type OpenOptions } from "../../src/storage/index.js";
import { testEnvironment, type TestEnvironment } from "../env/environment.js";
import { restic, type ResticRepo } from "../support/restic.js";
import { uniqueName } from "../support/wait.js";

const PASSWORD = "the same password";
const CONTENDERS = 3;

interface Location {
  url: string;
  restic: ResticRepo;
}

/**
 * The real store, except that writing `config` waits until every contender has got that far:
 * all of them have found the location empty and written a key, so all but one lose the race.
 */
function meetingAtConfig(store: ObjectStore, arrived: { count: number; all: Promise<void> }): ObjectStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop !== "create") return Reflect.get(target, prop, receiver) as unknown;
      return async (key: string, body: Buffer, options?: { signal?: AbortSignal }) => {
        if (key === "config") {
          arrived.count++;
          await arrived.all;
        }
        return target.create(key, body, options);
      };
    },
  });
}

function barrier(n: number): { count: number; all: Promise<void> } {
  const state = { count: 0, all: Promise.resolve() };
  state.all = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (state.count >= n) {
        clearInterval(poll);
        resolve();
      }
    }, 5);
  });
  return state;
}

/** CONTENDERS processes that all find `location` empty; each must end with the one repository. */
async function contend(location: Location, credentials?: OpenOptions["s3Credentials"]): Promise<void> {
  const arrived = barrier(CONTENDERS);
  const opened = await Promise.all(
    Array.from({ length: CONTENDERS }, () =>
      Repository.openOrInit(
        meetingAtConfig(openStore(location.url, { s3Credentials: credentials }), arrived),
        PASSWORD,
      ),
    ),
  );
  try {
    assert.equal(arrived.count, CONTENDERS, "every contender found the location empty");
    assert.equal(opened.filter((o) => o.created).length, 1, "one made it");
    const ids = new Set(opened.map((o) => o.repo.config.id));
    assert.equal(ids.size, 1, "all opened the same repository");

    // Each writes a snapshot, and every one of them sees all of them.
    for (const [i, { repo }] of opened.entries()) {
      const tree = await repo.saveTree({ nodes: [] });
      await repo.flush();
      await repo.saveSnapshot({
        time: new Date().toISOString(),
        tree,
        paths: [`/contender-${i}`],
        hostname: "test",
        username: "test",
      });
    }
    for (const { repo } of opened)
      assert.equal((await repo.listSnapshots()).length, CONTENDERS, `${repo.location} sees them all`);

    // The losers took their keys away again: one key, and restic finds a sound repository.
    const keys: string[] = [];
    for await (const k of opened[0]!.repo.store.list("keys/")) keys.push(k.key);
    assert.equal(keys.length, 1, keys.join(", "));
    await restic(location.restic, ["check"]);
    const listed = JSON.parse(await restic(location.restic, ["snapshots", "--json"])) as unknown[];
    assert.equal(listed.length, CONTENDERS);
  } finally {
    for (const { repo } of opened) repo.close();
  }
}

const scratch = mkdtempSync(join(tmpdir(), "arca-init-race-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe("processes making a repository at one empty directory", () => {
  it("all end up using the one repository that won", async () => {
    const dir = join(scratch, uniqueName("repo"));
    mkdirSync(dir);
    await contend({ url: `file://${dir}`, restic: { repo: dir, env: { RESTIC_PASSWORD: PASSWORD } } });
  });

  it("one that comes after the winner finished opens its repository", async () => {
    const dir = join(scratch, uniqueName("repo"));
    mkdirSync(dir);
    const first = await Repository.openOrInit(openStore(`file://${dir}`), PASSWORD);
    const second = await Repository.openOrInit(openStore(`file://${dir}`), PASSWORD);
    try {
      assert.deepEqual(
        [first.created, second.created, second.repo.config.id],
        [true, false, first.repo.config.id],
      );
      assert.equal(readdirSync(join(dir, "keys")).length, 1);
    } finally {
      first.repo.close();
      second.repo.close();
    }
  });

  it("opens despite a loser's key that was left behind (its delete failed)", async () => {
    const dir = join(scratch, uniqueName("repo"));
    mkdirSync(dir);
    const { repo } = await Repository.openOrInit(openStore(`file://${dir}`), PASSWORD);
    repo.close();
    // A key of the same password but of another master key, listed (and so tried) first.
    let stray: { dir: string; keyId: string };
    do {
      const other = join(scratch, uniqueName("repo"));
      mkdirSync(other);
      const made = (await Repository.openOrInit(openStore(`file://${other}`), PASSWORD)).repo;
      made.close();
      stray = { dir: other, keyId: made.keyId };
    } while (stray.keyId > repo.keyId);
    copyFileSync(join(stray.dir, "keys", stray.keyId), join(dir, "keys", stray.keyId));

    const again = await Repository.open(openStore(`file://${dir}`), PASSWORD);
    assert.deepEqual([again.config.id, again.keyId], [repo.config.id, repo.keyId]);
    again.close();
  });

  it("one with another password is told it is the wrong one, and leaves no key behind", async () => {
    const dir = join(scratch, uniqueName("repo"));
    mkdirSync(dir);
    const arrived = barrier(2);
    const results = await Promise.allSettled([
      Repository.openOrInit(meetingAtConfig(openStore(`file://${dir}`), arrived), PASSWORD),
      Repository.openOrInit(meetingAtConfig(openStore(`file://${dir}`), arrived), "another password"),
    ]);
    const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const lost = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    for (const { repo } of won) repo.close();
    assert.deepEqual(
      won.map((w) => w.created),
      [true],
    );
    assert.equal(lost.length, 1);
    assert.match(String(lost[0]), /wrong password/);
    assert.equal(readdirSync(join(dir, "keys")).length, 1);
  });
});

describe("processes making a repository at one empty S3 prefix", () => {
  let env: TestEnvironment;
  before(async () => {
    env = await testEnvironment();
  });
  after(async () => {
    await env?.stop();
  });

  it("all end up using the one repository that won", async () => {
    const bucket = await env.s3.createBucket();
    const prefix = uniqueName("repo");
    const host = env.s3.endpoint;
    await contend(
      {
        url: `s3://${bucket}/${prefix}?region=${env.s3.region}&endpoint=${host}&forcePathStyle=true`,
        restic: {
          repo: `s3:${host}/${bucket}/${prefix}`,
          env: {
            RESTIC_PASSWORD: PASSWORD,
            AWS_ACCESS_KEY_ID: env.s3.accessKeyId,
            AWS_SECRET_ACCESS_KEY: env.s3.secretAccessKey,
            AWS_DEFAULT_REGION: env.s3.region,
          },
        },
      },
      { accessKeyId: env.s3.accessKeyId, secretAccessKey: env.s3.secretAccessKey },
    );
  });
});
