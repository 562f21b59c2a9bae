// Types for the parts of mailauth (CommonJS, no declarations for these paths) the sender uses.
declare module 'mailauth/lib/dkim/body/index.js' {
  const m: {
    dkimBody(canonicalization: 'relaxed' | 'simple', algorithm: string, maxBodyLength: number | false): { update(chunk: Buffer): void; digest(encoding: 'base64'): string };
  };
  export default m;
}
declare module 'mailauth/lib/dkim/header/index.js' {
  const m: {
    generateCanonicalizedHeader(
      type: 'DKIM',
      signingHeaderLines: unknown,
      options: Record<string, unknown>,
    ): { canonicalizedHeader: Buffer; dkimHeaderOpts: Record<string, unknown> };
  };
  export default m;
}
declare module 'mailauth/lib/tools.js' {
  const m: {
    parseHeaders(buf: Buffer): { parsed: unknown[] };
    getSigningHeaderLines(parsedHeaders: unknown[], fieldNames?: string): unknown;
    formatSignatureHeaderLine(type: 'DKIM', values: Record<string, unknown>, folded: boolean): string;
  };
  export default m;
}
declare module 'mailauth/lib/mta-sts.js' {
  export interface MtaStsPolicy {
    id?: string | false;
    mode: 'enforce' | 'testing' | 'none';
    mx?: string[];
    maxAge?: number;
    expires?: string;
    error?: Error;
  }
  const m: {
    parsePolicy(file: Buffer | string): MtaStsPolicy;
    validateMx(mx: string, policy: MtaStsPolicy): { valid: boolean; mode: string; match?: string; testing: boolean };
  };
  export default m;
}
