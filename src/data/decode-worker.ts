/**
 * Body of a decode worker thread (see `decode-pool.ts`): runs each job it receives with the same
 * `runDecodeJob` the main thread would use, writing the normalised pixels straight into the batch's shared
 * buffer when given one (else transferring them back).
 */
import { parentPort } from 'node:worker_threads';
import { ImageDecodeError } from './images.ts';
import { runDecodeJob, type WorkerReply, type WorkerRequest } from './decode-pool.ts';

const port = parentPort;
if (!port) throw new Error('decode-worker.ts must run in a worker thread');

port.on('message', async ({ id, job, shared, offset }: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    if (shared) {
      await runDecodeJob(job, new Float32Array(shared), offset);
      port.postMessage({ id, written: true } satisfies WorkerReply);
      return;
    }
    const pixels = await runDecodeJob(job);
    reply = { id, pixels };
    port.postMessage(reply, [pixels.buffer as ArrayBuffer]);
    return;
  } catch (e) {
    reply = e instanceof ImageDecodeError ? { id, decodeError: e.reason } : { id, internalError: (e as Error).stack ?? String(e) };
  }
  port.postMessage(reply);
});
