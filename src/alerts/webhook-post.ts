/**
 * One signed POST to a webhook, sent only to an address the SSRF rule allows (webhook-address.ts):
 * the name is resolved once and the connection goes to the address checked, redirects are never
 * followed (a 3xx is a failed attempt), and a failure is reported as a class, not as the socket's
 * error, so the recorded attempts do not tell an admin which ports answer where.
 */
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, RefusedAddress, refusedRange, type AddressRule } from './webhook-address.js';

/** A failed attempt, as recorded for the admin: one of a few fixed words. */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    /** What went wrong in full, for the server's log only. */
    readonly detail: unknown,
  ) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}

export interface PostOptions {
  rule: AddressRule;
  timeoutMs: number;
  /** Aborted on shutdown. */
  signal: AbortSignal;
}

/** The receiver's status code; a DeliveryFailure when there is none (or an AbortError on shutdown). */
export function postWebhook(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  { rule, timeoutMs, signal }: PostOptions,
): Promise<number> {
  const url = new URL(rawUrl);
  if (url.username || url.password)
    return Promise.reject(new DeliveryFailure('refused: the URL holds credentials', null));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // A literal address is never looked up, so it is checked here.
  const literalRefusal = isIP(host) ? refusedRange(host, rule) : null;
  if (literalRefusal) return Promise.reject(refused(new RefusedAddress(literalRefusal)));
  const timeout = AbortSignal.timeout(timeoutMs);
  return new Promise<number>((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      // A connection of its own, connected to the address guardedLookup checked.
      agent: false,
      lookup: guardedLookup(rule),
      signal: AbortSignal.any([signal, timeout]),
    });
    request.on('socket', (socket) => {
      // The address really connected to, whatever resolved it.
      socket.once('connect', () => {
        const reason = socket.remoteAddress ? refusedRange(socket.remoteAddress, rule) : 'not known';
        if (reason) request.destroy(new RefusedAddress(reason));
      });
    });
    request.on('response', (response) => {
      resolve(response.statusCode ?? 0);
      response.destroy();
    });
    request.on('error', (error) => {
      if (signal.aborted) return reject(error);
      if (error instanceof RefusedAddress) return reject(refused(error));
      if (timeout.aborted) return reject(new DeliveryFailure(`no answer within ${timeoutMs} ms`, error));
      reject(new DeliveryFailure('could not connect or send', error));
    });
    request.end(body);
  });
}

function refused(error: RefusedAddress) {
  return new DeliveryFailure(`refused: ${error.message}`, error);
}
