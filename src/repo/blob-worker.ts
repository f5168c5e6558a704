// Worker thread: compresses (where it pays) and encrypts blobs, the CPU-heavy half of writing.
// The main thread reads, chunks and hashes, and decides what is new.
import { parentPort, workerData } from "node:worker_threads";
import type { MasterKey } from "./crypto.js";
import { sealBlob } from "./seal.js";

export interface SealRequest {
  job: number;
  data: Uint8Array;
  compress: boolean;
}

export interface SealResponse {
  job: number;
  stored: Uint8Array;
  uncompressedLength?: number;
}

const {
  encrypt: enc,
  macK,
  macR,
} = workerData as { encrypt: Uint8Array; macK: Uint8Array; macR: Uint8Array };
const key: MasterKey = { encrypt: Buffer.from(enc), macK: Buffer.from(macK), macR: Buffer.from(macR) };

parentPort?.on("message", (request: SealRequest) => {
  let out = new Uint8Array(0);
  const { uncompressedLength } = sealBlob(key, request.data, request.compress, (length) => ({
    // a buffer of its own (not from the pool), so that it can be transferred
    buffer: (out = new Uint8Array(length)),
    offset: 0,
  }));
  const response: SealResponse = { job: request.job, stored: out, uncompressedLength };
  parentPort?.postMessage(response, [out.buffer]);
});
