/**
 * `${NAME}` and `${NAME:-default}` in config string values. `$${` stays a literal `${`.
 * Substitution runs on parsed scalar values, never on the raw text, so a variable's value can
 * never inject YAML structure (a newline in a secret cannot add a key).
 */
const VAR_RE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export type EnvResult = { ok: true; value: string } | { ok: false; missing: string };

export function substituteEnv(input: string, env: NodeJS.ProcessEnv): EnvResult {
  if (!input.includes('${')) return { ok: true, value: input };
  let missing: string | undefined;
  const value = input.replace(VAR_RE, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$${') return '${';
    const v = env[name as string];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    missing ??= name;
    return '';
  });
  return missing === undefined ? { ok: true, value } : { ok: false, missing };
}
