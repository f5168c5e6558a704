// A resource type as discovery serves it, and the request paths that address it.

export interface ApiResource {
  group: string;
  version: string;
  /** The plural name, as in the URL: "deployments". */
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  /** Whether `version` is the group's preferred version. */
  preferred: boolean;
}

/** A built-in resource the code addresses by name, without asking discovery. */
export const builtinResource = (groupVersion: string, resource: string, kind: string): ApiResource => {
  const [group, version] = groupVersion.includes("/") ? groupVersion.split("/") : ["", groupVersion];
  return {
    group: group as string,
    version: version as string,
    resource,
    kind,
    namespaced: true,
    verbs: [],
    shortNames: [],
    preferred: true,
  };
};

export const groupVersion = (r: Pick<ApiResource, "group" | "version">): string =>
  r.group ? `${r.group}/${r.version}` : r.version;

/** "configmaps" for the core group, "deployments.apps" otherwise: the name users and Velero use. */
export const groupResource = (r: Pick<ApiResource, "group" | "resource">): string =>
  r.group ? `${r.resource}.${r.group}` : r.resource;

export function resourcePath(
  r: Pick<ApiResource, "group" | "version" | "resource">,
  namespace?: string,
  name?: string,
): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${r.resource}${name ? `/${encodeURIComponent(name)}` : ""}`;
}
