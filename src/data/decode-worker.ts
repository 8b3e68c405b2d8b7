/**
 * Body of a decode worker thread (see `decode-pool.ts`): runs each job it receives with the same
 * `runDecodeJob` the main thread would use, and transfers the normalised pixels back. Jobs run
 * concurrently (their pixel work queues on libuv's pool).
 */
import { parentPort } from 'node:worker_threads';
import { ImageDecodeError } from './images.ts';
import { runDecodeJob, type WorkerReply, type WorkerRequest } from './decode-pool.ts';

const port = parentPort;
if (!port) throw new Error('decode-worker.ts must run in a worker thread');

port.on('message', async ({ id, job }: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const pixels = await runDecodeJob(job);
    reply = { id, pixels };
    port.postMessage(reply, [pixels.buffer as ArrayBuffer]);
    return;
  } catch (e) {
    reply = e instanceof ImageDecodeError ? { id, decodeError: e.reason } : { id, internalError: (e as Error).stack ?? String(e) };
  }
  port.postMessage(reply);
});
