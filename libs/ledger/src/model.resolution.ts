/**
 * How a model name as a caller sends it finds its `models` row (SPEC §4), in this order: the
 * exact name; the name without a `provider/` prefix (`openai/gpt-4o`); the longest catalogued
 * name that the name extends by `-<digits and dashes>` (a dated snapshot: `gpt-4o-2024-08-06`,
 * `o3-mini-2025-01-31`, `claude-3-5-sonnet-20241022`). The `*` row comes last, and is the
 * caller's business (it keeps the asked name).
 */
export function resolveModelRow<T>(rows: ReadonlyMap<string, T>, name: string): T | undefined {
  const exact = rows.get(name);
  if (exact !== undefined) {
    return exact;
  }
  const bare = name.slice(name.lastIndexOf('/') + 1);
  if (bare !== name) {
    const unprefixed = rows.get(bare);
    if (unprefixed !== undefined) {
      return unprefixed;
    }
  }
  // Dashes from the right: the first catalogued prefix found is the longest. Once the suffix
  // holds anything but digits and dashes, no shorter prefix can qualify either.
  for (let dash = bare.lastIndexOf('-'); dash > 0; dash = bare.lastIndexOf('-', dash - 1)) {
    const suffix = bare.slice(dash + 1);
    if (!SNAPSHOT_SUFFIX.test(suffix)) {
      if (/[^\d-]/.test(suffix)) {
        return undefined;
      }
      continue;
    }
    const dated = rows.get(bare.slice(0, dash));
    if (dated !== undefined) {
      return dated;
    }
  }
  return undefined;
}

/** Digits and dashes, starting with a digit (`2024-08-06`, `20241022`, `0613`). */
const SNAPSHOT_SUFFIX = /^\d[\d-]*$/;
