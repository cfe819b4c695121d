/** An empty handler: what a fresh Node process costs before any of the product's code. */
export const handler = async () => ({ ok: true });
