// Types for the parts of mailauth (CommonJS, no declarations for these paths) the sender uses.
declare module 'mailauth/lib/dkim/dkim-signer.js' {
  import { Writable } from 'node:stream';
  export interface SignatureData {
    signingDomain: string;
    selector: string;
    privateKey: unknown;
    algorithm?: string;
    canonicalization?: string;
    maxBodyLength?: number | '';
  }
  export interface ParsedHeaders {
    parsed: unknown[];
  }
  class DkimSigner extends Writable {
    constructor(options: { signatureData: SignatureData[]; canonicalization?: string; signTime?: Date; headerList?: string });
    signatureData: SignatureData[];
    signatureHeaders: string[];
    headers: ParsedHeaders | undefined;
    headerList: string | undefined;
    signTime: Date | undefined;
    expires: Date | undefined;
    errors: unknown[];
    bodyHashes: Map<string, { hash: string | null }>;
    finalize(): Promise<void>;
  }
  const m: { DkimSigner: typeof DkimSigner };
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
  import type { Writable } from 'node:stream';
  const m: {
    getSigningHeaderLines(parsedHeaders: unknown[], fieldNames?: string): unknown;
    formatSignatureHeaderLine(type: 'DKIM', values: Record<string, unknown>, folded: boolean): string;
    writeToStream(stream: Writable, input: Buffer | string): Promise<void>;
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
