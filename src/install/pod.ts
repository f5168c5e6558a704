// What the controller's and the node agent's Pods share: probes on the metrics port, and the
// container settings that keep a process from writing its image or gaining privileges.
export const httpProbe = (path: string) => ({
  httpGet: { path, port: "metrics" },
  initialDelaySeconds: 5,
  periodSeconds: 10,
});

/** The image's user (Dockerfile): numeric, so that the kubelet can check runAsNonRoot. */
export const IMAGE_UID = 10001;

export const LOCKED_DOWN = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true } as const;

/** A writable /tmp on a read-only root filesystem. */
export const TMP = {
  mount: { name: "tmp", mountPath: "/tmp" },
  volume: { name: "tmp", emptyDir: {} },
} as const;

/**
 * A file:// location is a folder on the node (one node, or a share mounted at the same path on
 * every node): the Pods that read and write it mount it at the same path. Its files must be
 * readable and writable by IMAGE_UID (docs/operations.md).
 */
export function locationFolder(path: string | undefined) {
  if (path === undefined) return { mounts: [], volumes: [] };
  return {
    mounts: [{ name: "location", mountPath: path }],
    volumes: [{ name: "location", hostPath: { path, type: "Directory" } }],
  };
}
