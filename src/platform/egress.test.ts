// Unit tests of the egress policy: which addresses an outbound call may reach (pure).
import { describe, expect, it } from 'vitest';
import { checkEgress, type EgressPolicy, parseEgressAllow } from './egress.js';

const policy = (...entries: string[]): EgressPolicy => {
  const parsed = parseEgressAllow(entries);
  if (!parsed.ok) throw new Error(parsed.problems.join('; '));
  return parsed.policy;
};
const allowed = (p: EgressPolicy, host: string, address: string) => checkEgress(p, host, address).ok;

describe('checkEgress', () => {
  it('without egress.allow reaches anything but link-local and metadata addresses', () => {
    const open = policy();
    expect(allowed(open, 'prometheus', '10.1.2.3')).toBe(true);
    expect(allowed(open, 'localhost', '::1')).toBe(true);
    for (const address of [
      '169.254.169.254',
      '169.254.0.1',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
    ])
      expect(allowed(open, '', address)).toBe(false);
    // A name resolving to the metadata address is refused like the literal, and says both.
    expect(checkEgress(open, 'metadata.attacker.example', '169.254.169.254')).toEqual({
      ok: false,
      reason:
        'egress refused: metadata.attacker.example (169.254.169.254) is a link-local or metadata address, not allowed by egress.allow',
    });
    // Neighbours of the metadata address are ordinary addresses.
    expect(allowed(open, '', 'fd00:ec2::253')).toBe(true);
    expect(allowed(open, '', '169.255.0.1')).toBe(true);
  });

  it('with egress.allow reaches only listed hosts, wildcard domains, IPs and CIDRs', () => {
    const p = policy(
      'prometheus.internal',
      '*.hooks.example.com',
      '10.0.0.0/8',
      '2001:db8::/32',
      '192.0.2.7',
    );
    expect(allowed(p, 'prometheus.internal', '172.16.0.9')).toBe(true);
    expect(allowed(p, 'PROMETHEUS.internal.', '172.16.0.9')).toBe(true);
    expect(allowed(p, 'a.b.hooks.example.com', '203.0.113.5')).toBe(true);
    expect(allowed(p, 'hooks.example.com', '203.0.113.5')).toBe(false);
    expect(allowed(p, 'evilhooks.example.com', '203.0.113.5')).toBe(false);
    expect(allowed(p, 'anything', '10.200.3.4')).toBe(true);
    expect(allowed(p, 'anything', '::ffff:10.200.3.4')).toBe(true);
    expect(allowed(p, 'anything', '2001:db8:1::5')).toBe(true);
    expect(allowed(p, 'anything', '2001:db9::5')).toBe(false);
    expect(allowed(p, '', '192.0.2.7')).toBe(true);
    expect(allowed(p, '', '192.0.2.8')).toBe(false);
    expect(checkEgress(p, 'localhost', '127.0.0.1')).toEqual({
      ok: false,
      reason: 'egress refused: localhost (127.0.0.1) is not allowed by egress.allow',
    });
  });

  it('refuses metadata addresses even for an allowed host name, unless an IP or CIDR lists them', () => {
    expect(allowed(policy('metadata.google.internal'), 'metadata.google.internal', '169.254.169.254')).toBe(
      false,
    );
    expect(allowed(policy('169.254.169.254'), '', '169.254.169.254')).toBe(true);
    expect(allowed(policy('169.254.0.0/16'), '', '169.254.3.3')).toBe(true);
    expect(allowed(policy('fd00:ec2::254'), '', 'fd00:ec2::254')).toBe(true);
    expect(allowed(policy('0.0.0.0/0'), '', 'fe80::1')).toBe(false);
  });
});

describe('parseEgressAllow', () => {
  it.each([
    ['10.0.0.0/33', 'prefix length must be 0–32'],
    ['2001:db8::/129', 'prefix length must be 0–128'],
    ['10.0.0.0/x', 'prefix length'],
    ['http://prom:9090', 'is not a host name'],
    ['exa mple.com', 'is not a host name'],
    ['host/8', 'is not a host name'],
  ])('refuses %s', (entry, message) => {
    const parsed = parseEgressAllow([entry]);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems.join('\n')).toContain(message);
  });
});
