/** `${VAR}` references in configuration written in specs (secrets, URLs), expanded from the environment. */

export type Expanded =
  | { readonly ok: true; readonly value: string }
  | { readonly ok: false; readonly missing: string };

export function expandEnv(value: string, env: Readonly<Record<string, string | undefined>>): Expanded {
  let missing: string | undefined;
  const out = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const found = env[name];
    if (found === undefined) missing ??= name;
    return found ?? '';
  });
  return missing === undefined ? { ok: true, value: out } : { ok: false, missing };
}
