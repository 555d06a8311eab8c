/**
 * Where a webhook may be sent (SSRF): only to public unicast addresses. Loopback, private,
 * carrier-grade NAT, link-local (169.254.169.254, the cloud metadata address, among them),
 * unique-local IPv6 (fd00:ec2::254 among them), multicast, unspecified, broadcast and the reserved
 * and translation ranges are refused, IPv4 and IPv6 alike; an IPv4-mapped IPv6 address is judged
 * as the IPv4 address it carries. Loopback is allowed only with WEBHOOK_ALLOW_LOOPBACK=true (tests,
 * a receiver on the same host).
 *
 * A URL is checked when the webhook is created (checkWebhookUrl), and again at every delivery
 * against the address actually connected to (guardedLookup and the socket's remote address in
 * notify.ts): a name that resolved to a public address then and to an internal one now (DNS
 * rebinding) is not sent to.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

export interface AddressRule {
  /** WEBHOOK_ALLOW_LOOPBACK: loopback (127.0.0.0/8, ::1) is allowed too. */
  allowLoopback: boolean;
}

/** Why an address may not be sent to, in words an admin can act on; null when it may. */
export function refusedRange(address: string, rule: AddressRule): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process(): an IPv4-mapped IPv6 address (::ffff:127.0.0.1) becomes the IPv4 address it carries.
    parsed = ipaddr.process(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return 'not an IP address';
  }
  const range = parsed.range();
  if (range === 'unicast') return null;
  if (range === 'loopback') return rule.allowLoopback ? null : 'a loopback address';
  return RANGE_WORDS[range] ?? `an address of a reserved range (${range})`;
}

const RANGE_WORDS: Record<string, string> = {
  private: 'a private address',
  uniqueLocal: 'a private address',
  carrierGradeNat: 'a private address',
  linkLocal: 'a link-local or cloud metadata address',
  multicast: 'a multicast address',
  broadcast: 'a broadcast address',
  unspecified: 'an unspecified address',
};

export class RefusedAddress extends Error {
  constructor(readonly reason: string) {
    super(`the webhook's address is ${reason}, where webhooks may not be sent`);
    this.name = 'RefusedAddress';
  }
}

/**
 * A `lookup` for node:http(s) that resolves once and hands the connection only an allowed
 * address: the request connects to exactly the address checked here.
 */
export function guardedLookup(rule: AddressRule): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      const refusal = addresses.map((a) => refusedRange(a.address, rule)).find((reason) => reason !== null);
      // One refused address refuses the name: a resolver may hand either to the next lookup.
      if (refusal) return callback(new RefusedAddress(refusal), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** How long creation waits for a name to resolve; an unresolved name is checked at delivery only. */
const RESOLVE_TIMEOUT_MS = 3_000;

/**
 * The reason a URL's host may not be sent to, or null. A name that does not resolve now is left
 * to the delivery-time check (the receiver may not be set up yet).
 */
export async function refusedHost(url: URL, rule: AddressRule): Promise<string | null> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return refusedRange(host, rule);
  const addresses = await new Promise<LookupAddress[]>((resolve) => {
    const timer = setTimeout(() => resolve([]), RESOLVE_TIMEOUT_MS);
    dnsLookup(host, { all: true }, (error, found) => {
      clearTimeout(timer);
      resolve(error ? [] : found);
    });
  });
  for (const { address } of addresses) {
    const reason = refusedRange(address, rule);
    if (reason) return reason;
  }
  return null;
}

/** The URL as it may be shown (webhooks { url }, logs): never with credentials, even for a row stored before they were refused. */
export function shownUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (!url.username && !url.password) return raw;
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    return raw;
  }
}
