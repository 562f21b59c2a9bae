/**
 * One normal form for an SMTP reply, used both to classify and to check the samples in rules.txt,
 * so that a rule is written against exactly what it will see:
 *
 *   `<code> <enhanced> <text>`  e.g. `550 5.1.1 The email account that you tried to reach does not exist. ...`
 *
 * - multi-line replies (`550-5.1.1 a\r\n550 5.1.1 b`) are joined with one space and the repeated
 *   codes dropped; so are codes folded into the text by a DSN (`... Please try 550-5.1.1 double-...`);
 * - a leading `smtp;`, `Remote host said:`, `#` or `:` is dropped (DSN and vendor decorations);
 * - whitespace is collapsed; the code and enhanced code are left out when unknown;
 * - structured fields win over what the text says (`code`, `enhancedCode` from nodemailer).
 */
export interface ReplyParts {
  code?: number | undefined;
  enhancedCode?: string | undefined;
  response?: string | undefined;
}

export interface NormalizedReply {
  /** Basic reply code (400-599) when known. */
  code?: number;
  /** RFC 3463 enhanced status when known, e.g. `5.1.1`. */
  enhancedCode?: string;
  /** The reply text without codes, whitespace collapsed. */
  text: string;
  /** What rules are matched against: `[code ][enhanced ]text`. */
  line: string;
}

/** Longest text a rule ever sees; replies are short, this only bounds pathological input. */
export const MAX_REPLY_CHARS = 4096;

const DECORATION = /^(?:\s|smtp;|remote host said:|#|:)+/i;
const LEADING_CODE = /^([45]\d\d)(?:[ -]|$)/;
const LEADING_ENHANCED = /^([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)/;
const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3}$/;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function normalizeReply(input: ReplyParts): NormalizedReply {
  const raw = (input.response ?? '').slice(0, MAX_REPLY_CHARS * 2);
  let textCode: number | undefined;
  let textEnhanced: string | undefined;
  const parts: string[] = [];

  raw.split(/\r\n|\r|\n/).forEach((rawLine, i) => {
    let s = i === 0 ? rawLine.replace(DECORATION, '') : rawLine.trimStart();
    const code = LEADING_CODE.exec(s);
    // On continuation lines only the reply's own code is a prefix; another number is text.
    if (code && (i === 0 || Number(code[1]) === textCode)) {
      if (i === 0) textCode = Number(code[1]);
      s = s.slice(code[0].length).trimStart();
      const enhanced = LEADING_ENHANCED.exec(s);
      if (enhanced && (i === 0 || enhanced[1] === textEnhanced)) {
        if (i === 0) textEnhanced = enhanced[1];
        s = s.slice(enhanced[0].length);
      }
    } else if (i === 0) {
      const enhanced = LEADING_ENHANCED.exec(s);
      if (enhanced) {
        textEnhanced = enhanced[1];
        s = s.slice(enhanced[0].length);
      }
    }
    parts.push(s);
  });

  const code = validCode(input.code) ?? textCode;
  const enhancedCode = input.enhancedCode && ENHANCED.test(input.enhancedCode.trim()) ? input.enhancedCode.trim() : textEnhanced;

  let text = parts.join(' ');
  // Codes folded into the text by a DSN that joined a multi-line reply: `... try 550-5.1.1 double-checking`.
  if (code !== undefined && enhancedCode !== undefined) {
    text = text.replace(new RegExp(`(^|\\s)${code}[ -]${escapeRegExp(enhancedCode)}(?=\\s|$)`, 'g'), '$1');
  } else if (code !== undefined) {
    text = text.replace(new RegExp(`(^|\\s)${code}[ -](?=\\S)`, 'g'), '$1');
  }
  text = text.replace(/\s+/g, ' ').trim().slice(0, MAX_REPLY_CHARS);

  const line = [code, enhancedCode, text].filter((p) => p !== undefined && p !== '').join(' ');
  const out: NormalizedReply = { text, line };
  if (code !== undefined) out.code = code;
  if (enhancedCode !== undefined) out.enhancedCode = enhancedCode;
  return out;
}

function validCode(code: number | undefined): number | undefined {
  return code !== undefined && Number.isInteger(code) && code >= 200 && code <= 599 ? code : undefined;
}
