/**
 * Loading a served TF.js layers model in the browser without stalling on large weight files.
 *
 * TF.js requests every weight shard at once and reads no body until every response's headers have arrived. Over
 * HTTP/1.1 Chromium opens 6 connections per host, so with more than 6 shards the first 6 must finish before the
 * rest can start; but their bodies are not read, Chromium stops reading a socket once its ~2 MB pipe to the page
 * is full, and a 4 MB shard never finishes: ResNet-50's 23 shards hung for good. Reading each body as soon as its
 * headers arrive frees the connection for the next shard.
 */
import * as tf from '@tensorflow/tfjs';

/** Shards loaded so far and in all (model.json's weights manifest). */
export type LoadProgress = (loaded: number, total: number) => void;

/**
 * Loads the layers model at `url`, reading each response in full as it arrives.
 * @param url model.json's URL on the page's server
 * @param onProgress called after model.json and after each weight file
 * @throws Error when a file cannot be fetched (with its URL and HTTP status)
 * @example const model = await loadServedModel('/model/model.json', (n, total) => show(`${n}/${total}`));
 */
export async function loadServedModel(url: string, onProgress?: LoadProgress): Promise<tf.LayersModel> {
  let loaded = 0;
  let total = 1;
  const drained = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const r = await fetch(input, init);
    if (!r.ok) throw new Error(`${String(input)}: ${r.status} ${r.statusText}`);
    const body = await r.arrayBuffer();
    if (String(input).endsWith('model.json')) {
      const manifest = (JSON.parse(new TextDecoder().decode(body)) as { weightsManifest?: { paths: string[] }[] }).weightsManifest ?? [];
      total = 1 + manifest.reduce((n, g) => n + g.paths.length, 0);
    }
    onProgress?.(++loaded, total);
    return new Response(body, { status: r.status, statusText: r.statusText, headers: r.headers });
  };
  return tf.loadLayersModel(tf.io.http(url, { fetchFunc: drained }));
}
