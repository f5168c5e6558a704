// The items of a backup, read from its snapshot's tree: names and blob lists first (cheap), and
// each object's bytes only when its turn comes, so a restore never holds the whole backup.
import { ArcaError, messageOf } from "../common/errors.js";
import { asKubeObject, type KubeObject } from "../kube/object.js";
import type { Id } from "../repo/layout.js";
import type { Node } from "../repo/model.js";
import type { Repository } from "../repo/repository.js";
import { readNode, walkFiles } from "../snapshot/reader.js";
import { RESOURCES_DIR } from "../backup/layout.js";

export interface StoredItem {
  /** group-resource as in the tree: configmaps, deployments.apps */
  resource: string;
  namespace?: string;
  name: string;
  node: Node;
}

const PATH = /^\/resources\/([^/]+)\/(?:(namespaces)\/([^/]+)|cluster)\/(.+)\.json$/;

/** The objects at their preferred version; other versions (--all-versions) are not restored. */
export async function storedItems(repo: Repository, tree: Id): Promise<StoredItem[]> {
  const out: StoredItem[] = [];
  for await (const { path, node } of walkFiles(repo, tree, RESOURCES_DIR)) {
    const m = PATH.exec(path);
    if (!m) continue; // /resources/<gr>/<version>/...
    const [resource, namespace, name] = [m[1] as string, m[3], m[4] as string];
    out.push({ resource, ...(namespace ? { namespace } : {}), name, node });
  }
  return out;
}

export const itemKey = (i: { resource: string; namespace?: string; name: string }) =>
  `${i.resource}/${i.namespace ? `${i.namespace}/` : ""}${i.name}`;

/** Reads and checks one stored object: a damaged or foreign file is an error for this item only. */
export async function loadItem(
  repo: Repository,
  item: StoredItem,
  signal?: AbortSignal,
): Promise<KubeObject> {
  const where = `stored object ${itemKey(item)}`;
  let raw: Buffer;
  try {
    raw = await readNode(repo, item.node, signal);
  } catch (err) {
    throw new ArcaError(`${where} cannot be read: ${messageOf(err)}`, {
      hint: "run `arca repo check --read-data` on the location",
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new ArcaError(`${where} is not JSON: ${messageOf(err)}`);
  }
  const o = asKubeObject(value, where);
  if (o.metadata.name !== item.name || (o.metadata.namespace ?? undefined) !== item.namespace)
    throw new ArcaError(
      `${where} holds ${o.metadata.namespace ?? ""}/${o.metadata.name}, not the object its path names`,
    );
  return o;
}
