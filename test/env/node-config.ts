// The configuration files of a test node: the CNI bridge, containerd's config and the kubelet's
// KubeletConfiguration. Every setting that works around this machine says why.
import { join } from "node:path";
import type { NodeSlot } from "./host.js";
import type { NodePki } from "./pki.js";

export function cniConfig(slot: NodeSlot, dir: string, serviceCidr: string): string {
  // The bridge and its gateway address exist already (host.ts): the plugin only attaches pods.
  // No masquerade and no default route: pods reach each other, the node (probes, metrics) and
  // the kubernetes Service, and nothing off the machine.
  return JSON.stringify({
    cniVersion: "1.0.0",
    name: `arca-${slot.index}`,
    plugins: [
      {
        type: "bridge",
        bridge: slot.bridge,
        isGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          dataDir: join(dir, "cni", "ipam"),
          ranges: [[{ subnet: slot.podCidr, gateway: slot.gateway }]],
          routes: [{ dst: serviceCidr, gw: slot.gateway }],
        },
      },
      { type: "loopback" },
    ],
  });
}

export function containerdConfig(dir: string, sandboxImage: string): string {
  const run = join(dir, "run");
  return `version = 2
root = "${join(dir, "containerd", "root")}"
state = "${join(run, "containerd")}"
[grpc]
  address = "${join(run, "containerd.sock")}"
[ttrpc]
  address = "${join(run, "containerd.sock.ttrpc")}"
[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, "containerd", "opt")}"
[plugins."io.containerd.grpc.v1.cri"]
  # No registry: the workload image doubles as the pause image.
  sandbox_image = "${sandboxImage}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  netns_mounts_under_state_dir = true
  # This machine's root lacks CAP_SYS_RESOURCE, so nothing may lower its oom_score_adj below 0;
  # runc dies on the sandbox's -998 unless containerd clamps it to its own (0).
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = "${join(run, "runc")}"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${join(dir, "cni", "net.d")}"
`;
}

export function kubeletConfig(o: {
  dir: string;
  slot: NodeSlot;
  socket: string;
  port: number;
  healthzPort: number;
  nodePki: NodePki;
  caCert: string;
}): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 here: refused by default since 1.35, still allowed in 1.37.
failCgroupV1: false
cgroupDriver: cgroupfs
# A root of its own: a kubelet kills the processes of pod cgroups it does not know, so two
# nodes on one host must never share one.
cgroupRoot: ${o.slot.cgroupRoot}
containerRuntimeEndpoint: unix://${o.socket}
address: 127.0.0.1
port: ${o.port}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${o.healthzPort}
tlsCertFile: ${o.nodePki.kubeletServerCert}
tlsPrivateKeyFile: ${o.nodePki.kubeletServerKey}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${o.caCert}}
authorization: {mode: Webhook}
podLogsDir: ${join(o.dir, "pod-logs")}
# No CAP_SYS_RESOURCE here (see containerd's restrict_oom_score_adj).
oomScoreAdj: 0
failSwapOn: false
evictionHard: {memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}
# The local images cannot be pulled again: never collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
serializeImagePulls: false
`;
}
