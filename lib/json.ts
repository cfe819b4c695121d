/** A JSON object (not null, not an array): what config.json sections, bodies and envelopes must be. */
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
