/**
 * Team-scoped writes (pure): which teams own which services, and whether a principal may change a
 * resource that touches some services. docs/api.md#teams explains the rule to people.
 */
import type { Principal } from './tokens.js';

/** Service → the teams that own it (several when its SLOs name several owners). */
export type Owners = ReadonlyMap<string, readonly string[]>;

/** What ownership needs of the loaded specs (structural: the platform floor does not import slo/). */
export interface OwnedCatalog {
  readonly slos: readonly {
    readonly id: string;
    readonly service: string;
    readonly shinrai: { readonly owner?: string | undefined };
  }[];
}

/**
 * The owners of every service: the `shinrai.dev/owner` of its SLOs, plus the services each team
 * lists in config (`teams.<team>.services`), which extends what the specs say.
 */
export function ownersOf(
  catalog: OwnedCatalog,
  configured: Readonly<Record<string, { readonly services: readonly string[] }>> = {},
): Map<string, string[]> {
  const owners = new Map<string, Set<string>>();
  const add = (service: string, team: string) => {
    const set = owners.get(service) ?? new Set<string>();
    set.add(team);
    owners.set(service, set);
  };
  for (const slo of catalog.slos) if (slo.shinrai.owner) add(slo.service, slo.shinrai.owner);
  for (const [team, { services }] of Object.entries(configured))
    for (const service of services) add(service, team);
  return new Map([...owners].map(([service, teams]) => [service, [...teams].sort()]));
}

/**
 * The services that SLO ids belong to; an evaluation target `slo/objective` counts as its SLO.
 * Unknown ids are ignored: the write itself rejects them.
 */
export function servicesOfSlos(catalog: OwnedCatalog, sloIds: readonly string[]): string[] {
  return sloIds.flatMap((id) => {
    const slo = id.includes('/') ? id.slice(0, id.indexOf('/')) : id;
    return catalog.slos.filter((s) => s.id === id || s.id === slo).map((s) => s.service);
  });
}

/** The teams owning any of `services`, sorted (what an audit event records). */
export function teamsOwning(services: readonly string[], owners: Owners): string[] {
  return [...new Set(services.flatMap((service) => owners.get(service) ?? []))].sort();
}

export type WriteDecision =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly error: string;
      /** For a refusal by team: the first service refused, its owners and the caller's teams (for messages in other languages). */
      readonly team?: {
        readonly service: string;
        readonly owners: readonly string[];
        readonly teams: readonly string[];
      };
    };

/**
 * May `principal` change a resource touching `services`? Admin: always. Viewer: never. An editor
 * without teams (an unscoped token, a session whose provider names no team): yes, as before teams
 * existed. An editor with teams: only if every owned service it touches is owned by one of its
 * teams; services nobody owns (and resources touching none) are open to every editor.
 */
export function canWrite(
  principal: Pick<Principal, 'role' | 'teams'>,
  services: readonly string[],
  owners: Owners,
): WriteDecision {
  if (principal.role === 'admin') return { ok: true };
  if (principal.role !== 'editor')
    return { ok: false, error: `this needs the editor role; the caller is ${principal.role}` };
  const teams = principal.teams ?? [];
  if (teams.length === 0) return { ok: true };
  for (const service of [...new Set(services)].sort()) {
    const owning = owners.get(service) ?? [];
    if (owning.length > 0 && !owning.some((team) => teams.includes(team)))
      return {
        ok: false,
        error: `this needs editor rights on team ${owning.join(' or ')} (service ${service}); your teams: ${teams.join(', ')}`,
        team: { service, owners: owning, teams },
      };
  }
  return { ok: true };
}

/**
 * What a principal reads with `auth.teamScopedReads` on: undefined when it reads everything (an
 * admin, or a principal without teams), else the rule `sees` and a key naming its team set (for
 * read caches: two principals with one key see the same records).
 */
export interface ReadScope {
  readonly teams: readonly string[];
  readonly key: string;
  /**
   * May the principal read a record touching `services`? Yes when it touches no owned service, or
   * at least one service one of its teams owns; a record only other teams own is hidden.
   */
  sees(services: readonly string[]): boolean;
}

export function readScopeOf(
  principal: Pick<Principal, 'role' | 'teams'> | undefined,
  owners: Owners,
): ReadScope | undefined {
  const teams = [...new Set(principal?.teams ?? [])].sort();
  if (!principal || principal.role === 'admin' || teams.length === 0) return undefined;
  return {
    teams,
    key: JSON.stringify(teams),
    sees: (services) => {
      let owned = false;
      for (const service of services) {
        const owning = owners.get(service) ?? [];
        if (owning.some((team) => teams.includes(team))) return true;
        if (owning.length > 0) owned = true;
      }
      return !owned;
    },
  };
}
