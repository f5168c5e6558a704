// The API group, and the labels and annotations Arca puts on the objects it makes. Plain
// constants, apart from the schemas in meta.ts, so that importing them loads no typebox.

export const GROUP = "arca.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
/** Where the component lives unless told otherwise, as in the reference product. */
export const DEFAULT_NAMESPACE = "velero";
/** The node agent's DaemonSet: `arca install` makes it, and the agent records its Events on it. */
export const NODE_AGENT_DAEMONSET = "node-agent";

export const LABELS = {
  /** On a Backup: the location it is stored in. */
  location: `${GROUP}/location`,
  /** On a Backup made by a Schedule. */
  schedule: `${GROUP}/schedule`,
  /** On a Restore: the backup it reads. */
  backup: `${GROUP}/backup`,
  /** On everything `arca install` creates, so that uninstall finds it. */
  component: "app.kubernetes.io/part-of",
} as const;

export const ANNOTATIONS = {
  /** On a Backup that sync created from a snapshot found in the location. */
  synced: `${GROUP}/synced-from`,
} as const;
