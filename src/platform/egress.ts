/**
 * The egress policy every outbound call obeys (Prometheus pulls, notification deliveries, the LLM
 * endpoint): `egress.allow` lists the hosts and CIDRs calls may reach; link-local and cloud
 * metadata addresses are refused unless an allowed CIDR covers them. The check runs on the
 * address a connection is really made to, after DNS resolution, inside the undici dispatcher the
 * clients share, so a name that resolves to 169.254.169.254 is refused like the literal. docs/configuration.md.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, isIPv4 } from 'node:net';
import { Agent, buildConnector } from 'undici';

/**
 * Refused whatever `egress.allow` says, unless an allowed IP/CIDR names them: link-local (where
 * cloud metadata services live), AWS's IPv6 metadata address, and 169.254.0.0/16 through NAT64.
 * IPv4-mapped IPv6 (::ffff:169.254.169.254) matches the IPv4 rules.
 */
export const ALWAYS_REFUSED = [
  '169.254.0.0/16',
  'fe80::/10',
  'fd00:ec2::254/128',
  '64:ff9b::a9fe:0/112',
] as const;

export interface EgressPolicy {
  /** Exact host names (lower case), and `.suffix` entries for `*.suffix` wildcards. */
  readonly hosts: ReadonlySet<string>;
  /** Allowed IPs and CIDRs. */
  readonly cidrs: BlockList;
  /** True when `egress.allow` lists anything: then only what it lists is reached. */
  readonly restricted: boolean;
}

const refused = blockListOf(ALWAYS_REFUSED);

const HOST = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Reads `egress.allow` entries: host names, `*.domain` wildcards, IP addresses and CIDRs. */
export function parseEgressAllow(
  entries: readonly string[],
):
  | { readonly ok: true; readonly policy: EgressPolicy }
  | { readonly ok: false; readonly problems: string[] } {
  const hosts = new Set<string>();
  const cidrs = new BlockList();
  const problems: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    const slash = entry.indexOf('/');
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    if (family) {
      const max = family === 4 ? 32 : 128;
      const prefix = slash < 0 ? max : Number(entry.slice(slash + 1));
      if (
        !Number.isInteger(prefix) ||
        prefix < 0 ||
        prefix > max ||
        (slash >= 0 && !/^\d+$/.test(entry.slice(slash + 1)))
      ) {
        problems.push(`"${raw}": the prefix length must be 0–${max}`);
        continue;
      }
      cidrs.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    } else if (slash < 0 && HOST.test(entry)) {
      hosts.add(entry.startsWith('*.') ? entry.slice(1) : entry);
    } else {
      problems.push(`"${raw}" is not a host name (api.example.com, *.example.com), an IP address or a CIDR`);
    }
  }
  if (problems.length) return { ok: false, problems };
  return { ok: true, policy: { hosts, cidrs, restricted: entries.length > 0 } };
}

export type EgressDecision = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Whether a connection to `address` (what `hostname` resolved to) may be made (pure). */
export function checkEgress(policy: EgressPolicy, hostname: string, address: string): EgressDecision {
  const type = isIPv4(address) ? 'ipv4' : 'ipv6';
  if (policy.cidrs.check(address, type)) return { ok: true };
  const name = hostname.toLowerCase().replace(/\.$/, '');
  const shown = name && name !== address ? `${name} (${address})` : address;
  if (refused.check(address, type))
    return {
      ok: false,
      reason: `egress refused: ${shown} is a link-local or metadata address, not allowed by egress.allow`,
    };
  if (!policy.restricted) return { ok: true };
  if (policy.hosts.has(name)) return { ok: true };
  for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1))
    if (policy.hosts.has(name.slice(dot))) return { ok: true };
  return { ok: false, reason: `egress refused: ${shown} is not allowed by egress.allow` };
}

/** A connection the policy refused; its message is ours and safe to show and store. */
export class EgressRefusedError extends Error {
  readonly code = 'ERR_EGRESS_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'EgressRefusedError';
  }
}

/** The refusal inside an error undici (or a client) wrapped, if it is one. */
export function egressRefusal(error: unknown): EgressRefusedError | undefined {
  for (
    let e = error as { cause?: unknown } | undefined, depth = 0;
    e && depth < 5;
    e = e.cause as never, depth++
  )
    if (e instanceof EgressRefusedError) return e;
  return undefined;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;
export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

export interface EgressOptions {
  /** Called once per refused connection, with the client that tried (for /metrics). */
  readonly onRefused?: ((client: string) => void) | undefined;
  /** DNS resolution (default: the system resolver, as every Node client uses). */
  readonly lookup?: Lookup | undefined;
}

/** Dispatchers that only connect where the policy allows; one per client and connection settings. */
export class Egress {
  private readonly lookup: Lookup;

  constructor(
    readonly policy: EgressPolicy,
    private readonly options: EgressOptions = {},
  ) {
    this.lookup = options.lookup ?? (dnsLookup as unknown as Lookup);
  }

  /** An undici Agent for `client` (a metric label) whose every connection is checked. */
  agent(
    client: string,
    options: Omit<Agent.Options, 'connect'> & { connect?: buildConnector.BuildOptions } = {},
  ): Agent {
    const refuse = (reason: string) => {
      this.options.onRefused?.(client);
      return new EgressRefusedError(reason);
    };
    const lookup: Lookup = (hostname, lookupOptions, callback) => {
      this.lookup(hostname, { ...lookupOptions, all: true }, (err, addresses) => {
        if (err) return callback(err, '');
        const list = (addresses as LookupAddress[]).map((a) => ({
          ...a,
          decision: checkEgress(this.policy, hostname, a.address),
        }));
        const allowed = list.filter((a) => a.decision.ok).map(({ address, family }) => ({ address, family }));
        if (!allowed.length) {
          const first = list[0]?.decision;
          return callback(
            refuse(first && !first.ok ? first.reason : `egress refused: ${hostname} has no address`),
            '',
          );
        }
        if (lookupOptions.all) return callback(null, allowed);
        return callback(null, allowed[0]!.address, allowed[0]!.family);
      });
    };
    const base = buildConnector({ ...options.connect, lookup } as buildConnector.BuildOptions);
    const connect: buildConnector.connector = (connectOptions, callback) => {
      // An IP literal is never looked up: check it here.
      if (isIP(connectOptions.hostname)) {
        const decision = checkEgress(this.policy, '', connectOptions.hostname);
        if (!decision.ok) {
          callback(refuse(decision.reason), null);
          return;
        }
      }
      base(connectOptions, callback);
    };
    return new Agent({ ...options, connect });
  }
}

function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string];
    list.addSubnet(address, Number(prefix), isIPv4(address) ? 'ipv4' : 'ipv6');
  }
  return list;
}
