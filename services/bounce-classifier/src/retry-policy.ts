/** The shipped retry policy; resolves both from src/ and from the bundle in dist/. */
export const SHIPPED_POLICY_URL = new URL('../src/retry-policy.txt', import.meta.url);
