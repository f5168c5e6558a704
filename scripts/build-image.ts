// `npm run image [-- --import <containerd socket>]`: builds Arca's image without a daemon or a
// registry, as a docker-archive tar in the Dockerfile's layout (test/env/images.ts), prints its
// path and ref, and optionally imports it into a containerd's k8s.io namespace for the kubelet.
// The tar is cached by a hash of its inputs: an unchanged program is not built again.
import { arcaImage, importImage } from "../test/env/images.js";

const USAGE = "usage: npm run image [-- --import <containerd socket>]";

function parseArgs(argv: string[]): { socket?: string } {
  const out: { socket?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--import" && argv[i + 1]) out.socket = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}; ${USAGE}`);
  }
  return out;
}

async function main(): Promise<void> {
  const { socket } = parseArgs(process.argv.slice(2));
  const { ref, tarPath } = await arcaImage();
  process.stdout.write(`image ${ref}\narchive ${tarPath}\n`);
  if (socket) {
    await importImage(tarPath, socket);
    process.stdout.write(
      `imported into the containerd at ${socket} (namespace k8s.io); ` +
        `install with: arca install --image ${ref} ...\n`,
    );
  } else {
    process.stdout.write(
      `import into a node's containerd with: ctr -n k8s.io images import ${tarPath}\n` +
        `or load into docker with: docker load -i ${tarPath}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`build-image: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
