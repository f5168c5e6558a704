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
