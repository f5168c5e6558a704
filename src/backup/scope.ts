// What a backup learns about the cluster before it lists anything: which namespaces it covers
// (and the Namespace objects, listed once), and which CRD serves each custom kind.
import { ArcaError } from "../common/errors.js";
import type { KubeClient } from "../kube/client.js";
import { listObjects, type ListedObject } from "../kube/list.js";
import type { ApiResource } from "../kube/resources.js";
import { KubeApiError } from "../kube/transport.js";
import { globMatcher, type NamespaceFilter } from "./filters.js";
import type { ItemProblem } from "./layout.js";

export interface NamespaceScope {
  /** Included namespace -> its object as listed (undefined when listing was not allowed). */
  namespaces: Map<string, ListedObject | undefined>;
  warnings: ItemProblem[];
}

export async function namespaceScope(
  client: KubeClient,
  r: ApiResource | undefined,
  filter: NamespaceFilter,
  includePatterns: string[],
  pageSize?: number,
): Promise<NamespaceScope> {
  if (!r) throw new ArcaError("the cluster serves no namespaces resource; is this a Kubernetes API server?");
  const scope: NamespaceScope = { namespaces: new Map(), warnings: [] };
  try {
    for await (const page of listObjects(client, r, { limit: pageSize }))
      for (const ns of page)
        if (filter.matches(ns.object.metadata.name)) scope.namespaces.set(ns.object.metadata.name, ns);
  } catch (err) {
    if (!(err instanceof KubeApiError && err.status === 403)) throw err;
    // Without permission to list namespaces, names given literally still work.
    const literal = includePatterns.filter((n) => !/[*?]/.test(n));
    if (literal.length === 0 || filter.all)
      throw new ArcaError(`${err.message}`, {
        hint: "name the namespaces with --include-namespaces (no globs), or get permission to list namespaces",
      });
    for (const n of literal) if (filter.matches(n)) scope.namespaces.set(n, undefined);
    scope.warnings.push({
      resource: "namespaces",
      message: `cannot list namespaces; using the names given: ${err.message}`,
    });
  }
  for (const pattern of includePatterns) {
    if (pattern === "*") continue;
    const matches = globMatcher([pattern]);
    if (![...scope.namespaces.keys()].some(matches))
      scope.warnings.push({
        resource: "namespaces",
        name: pattern,
        message: "no namespace of the cluster matches this name",
      });
  }
  return scope;
}

/** group/kind -> the name of the CRD that serves it; a warning instead when CRDs cannot be listed. */
export async function crdKinds(
  client: KubeClient,
  r: ApiResource | undefined,
  pageSize?: number,
): Promise<{ kinds: Map<string, string>; warning?: ItemProblem }> {
  const kinds = new Map<string, string>();
  if (!r) return { kinds };
  try {
    for await (const page of listObjects(client, r, { limit: pageSize })) {
      for (const { object: crd } of page) {
        const spec = crd.spec as { group?: string; names?: { kind?: string } } | undefined;
        if (spec?.group && spec.names?.kind) kinds.set(`${spec.group}/${spec.names.kind}`, crd.metadata.name);
      }
    }
  } catch (err) {
    if (!(err instanceof KubeApiError)) throw err;
    return {
      kinds,
      warning: {
        resource: `${r.resource}.${r.group}`,
        message: `cannot list CRDs, so custom resources will not bring theirs: ${err.message}`,
      },
    };
  }
  return { kinds };
}
