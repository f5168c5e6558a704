// Running the backup engine against the test cluster, and reading back what it stored.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { runBackup, type BackupOutcome, type BackupRequest } from "../../src/backup/engine.js";
import { DEFAULT_SPEC, type BackupSpec } from "../../src/backup/spec.js";
import { KubeClient } from "../../src/kube/client.js";
import type { Id } from "../../src/repo/layout.js";
import { Repository } from "../../src/repo/repository.js";
import { readFileAt, walkFiles } from "../../src/snapshot/reader.js";
import { openStore } from "../../src/storage/index.js";

export const PASSWORD = "backup-test-password";

/** A new file:// repository in a temporary directory. */
export async function scratchRepository(): Promise<{ repo: Repository; dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "arca-backup-repo-"));
  const repo = await Repository.init(openStore(`file://${dir}`), PASSWORD);
  return { repo, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function backUp(
  kc: KubeConfig,
  repo: Repository,
  name: string,
  spec: Partial<BackupSpec>,
  extra: Partial<BackupRequest> = {},
): Promise<BackupOutcome> {
  return runBackup({
    name,
    spec: { ...DEFAULT_SPEC, ...spec },
    repo,
    client: new KubeClient(kc),
    ...extra,
  });
}

/** Every object stored under /resources, as "resource/namespace/name" or "resource/name". */
export async function storedItems(repo: Repository, snapshot: Id): Promise<string[]> {
  const tree = (await repo.loadSnapshot(snapshot)).tree;
  const out: string[] = [];
  for await (const { path } of walkFiles(repo, tree, "/resources")) {
    const m = /^\/resources\/([^/]+)\/(?:([^/]+)\/)?(?:namespaces\/([^/]+)|cluster)\/([^/]+)\.json$/.exec(
      path,
    );
    if (!m) throw new Error(`unexpected path in a backup: ${path}`);
    const [, resource, version, ns, name] = m;
    out.push([resource, version, ns, name].filter(Boolean).join("/"));
  }
  return out.sort();
}

/** The stored objects that belong to these namespaces (the shared cluster has others). */
export const within = (items: string[], namespaces: string[]) =>
  items.filter((i) => namespaces.some((ns) => i.includes(`/${ns}/`) || i === `namespaces/${ns}`));

export async function storedJson(repo: Repository, snapshot: Id, path: string): Promise<unknown> {
  const raw = await readFileAt(repo, (await repo.loadSnapshot(snapshot)).tree, path);
  if (!raw) throw new Error(`${path} is not in snapshot ${snapshot}`);
  return JSON.parse(raw.toString("utf8"));
}

/** Creates objects of any kind, in order. */
export async function createObjects(kc: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const o of objects) await api.create(o);
}

/**
 * A client that runs `before` ahead of each request, so that a test can change the real
 * cluster at an exact point of a backup (between two pages, after discovery).
 */
export class HookedClient extends KubeClient {
  constructor(
    kc: KubeConfig,
    private readonly before: (path: string) => Promise<void>,
    options: ConstructorParameters<typeof KubeClient>[1] = {},
  ) {
    super(kc, options);
  }

  override async request(what: string, req: Parameters<KubeClient["request"]>[1]) {
    await this.before(req.path);
    return super.request(what, req);
  }
}

/** Compacts etcd up to its current revision: every older continue token expires. */
export async function compactEtcd(etcdUrl: string): Promise<void> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${etcdUrl}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as { header: { revision: string } };
  };
  const { header } = await post("/v3/kv/range", { key: Buffer.from("/").toString("base64") });
  await post("/v3/kv/compaction", { revision: header.revision, physical: true });
}
