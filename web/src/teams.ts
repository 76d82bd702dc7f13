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
