/** Team-scoped editing (docs/api.md#teams), pure: what of a record another team owns, from whoami's `readOnly`. */

export interface ReadOnlyScope {
  readonly readOnly?: { readonly services: readonly string[]; readonly slos: readonly string[] } | undefined;
}

/**
 * The services and SLOs of a record that the caller may not change because another team owns them;
 * empty for admins, editors without teams and records of the caller's teams (the API still decides).
 */
export function ownedByOtherTeams(
  who: ReadOnlyScope | undefined,
  record: { readonly services: readonly string[]; readonly slos: readonly string[] },
): string[] {
  const readOnly = who?.readOnly;
  if (!readOnly) return [];
  return [
    ...record.services.filter((s) => readOnly.services.includes(s)),
    ...record.slos.filter((s) => readOnly.slos.includes(s)),
  ];
}

/**
 * What of a silence another team owns, as the API counts it: the services and SLOs its exact
 * `service` and `slo` matchers name; a silence with neither may silence any team's alerts, so it
 * touches everything other teams own.
 */
export function silenceOwnedByOtherTeams(
  who: ReadOnlyScope | undefined,
  matchers: readonly { readonly label: string; readonly value: string; readonly regex?: boolean }[],
): string[] {
  const exact = matchers.filter((m) => !m.regex && (m.label === 'service' || m.label === 'slo'));
  if (!exact.length) return [...(who?.readOnly?.services ?? [])];
  return ownedByOtherTeams(who, {
    services: exact.filter((m) => m.label === 'service').map((m) => m.value),
    slos: exact.filter((m) => m.label === 'slo').map((m) => m.value),
  });
}

/** The teams that own any of `names` (services), from GET /api/v1/teams. */
export function owningTeams(
  teams: readonly { readonly team: string; readonly services: readonly string[] }[],
  names: readonly string[],
): string[] {
  return teams.filter((t) => t.services.some((s) => names.includes(s))).map((t) => t.team);
}
