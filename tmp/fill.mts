import { KubeClient } from "../src/kube/client.js";
import { loadKubeConfig } from "../src/kube/config.js";
import { populate } from "../bench/common.js";
const client = new KubeClient(await loadKubeConfig({}));
await populate(client, Number(process.argv[2] ?? 20000));
client.close();
