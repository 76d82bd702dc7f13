/**
 * Worker-thread entry of the spec loader: parses, converts and resolves specs off the server's
 * event loop (see spec-loader.ts), file names relative to the spec root. Parsed files are cached
 * by name and content hash, so a reload parses only the files that changed.
 */
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { loadSpecSources } from './load.js';
import { checkUploadedTexts } from './origin.js';
import { createParseCache } from './parse-cache.js';
import {
  type LoaderAck,
  type LoaderPart,
  type LoaderRequest,
  type LoaderResponse,
  loadMessages,
  type UploadCheck,
} from './spec-loader.js';

const parse = createParseCache();

/** The spec objects of uploaded texts and what they may not define (origin.ts); parsed once. */
function checkUpload(texts: readonly { file: string; text: string }[]): UploadCheck {
  const documents = texts.reduce((sum, { file, text }) => sum + parse(file, text).objects.length, 0);
  return { documents, untrusted: checkUploadedTexts(texts, parse) };
}

async function answer(request: LoaderRequest): Promise<Array<LoaderPart | LoaderResponse>> {
  try {
    if (request.kind === 'check-upload')
      return [{ id: request.id, ok: true, check: checkUpload(request.texts) }];
    const result = await loadSpecSources(request.path, request.texts, undefined, {
      rootRelative: true,
      parse,
      configuredTargets: request.configuredTargets,
    });
    // Hashed here so the main thread need not serialise thousands of SLOs to see what changed.
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([result.catalog, result.diagnostics]))
      .digest('base64');
    return loadMessages(request.id, { ...result, fingerprint });
  } catch (error) {
    return [{ id: request.id, ok: false, error: (error as Error).message }];
  }
}

// Acknowledgements of parts by request id: the next part goes only once the main thread has had
// a turn of its event loop (messages already queued on a port are all delivered in one turn).
const acks = new Map<number, () => void>();

async function send(messages: Array<LoaderPart | LoaderResponse>): Promise<void> {
  for (const message of messages) {
    if ('part' in message) {
      const acked = new Promise<void>((resolve) => acks.set(message.id, resolve));
      parentPort?.postMessage(message);
      await acked;
    } else parentPort?.postMessage(message);
  }
}

parentPort?.on('message', (message: LoaderRequest | LoaderAck) => {
  if (message.kind === 'ack') {
    acks.get(message.id)?.();
    acks.delete(message.id);
    return;
  }
  void answer(message).then(send);
});
