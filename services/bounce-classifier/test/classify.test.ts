import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BounceClass, FailureReasonCode, FailureType } from '@mta/contracts';
import { canBeHard, classifyReply, shippedRules, type ReplyInput } from '../src/index.ts';

const rules = shippedRules();

interface Case {
  name: string;
  input: ReplyInput;
  type: FailureType;
  reason: FailureReasonCode;
  cls: BounceClass;
  category: string;
  permanent: boolean;
  sender: boolean;
}

/** Real replies (shared/corpus and documented provider replies) → expected qualification. */
const CASES: Case[] = [
  // --- recipient: Hard
  {
    name: 'Gmail 550-5.1.1 multi-line, as nodemailer hands it over',
    input: {
      code: 550,
      command: 'RCPT TO',
      response:
        "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550-5.1.1 unnecessary spaces. Learn more at\r\n550 5.1.1  https://support.google.com/mail/?p=NoSuchUser y3si675602plr.1 - gsmtp",
    },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'Gmail 550-5.1.1 folded into one DSN line (corpus rhost-google-02)',
    input: {
      response:
        "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser e22-n7GpZmsf093195.222 - gsmtp",
    },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'Postfix user unknown (corpus smtp-replies)',
    input: { response: ': 550 5.1.1 <kijitora@example.jp>: Recipient address rejected: User unknown in local recipient table', command: 'RCPT TO' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'structured code and enhanced code with a bare text',
    input: { code: 550, enhancedCode: '5.1.1', response: 'User unknown', command: 'RCPT TO' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'Exchange Online 550 5.1.10 RecipientNotFound (corpus rhost-microsoft-03)',
    input: { response: '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'Exchange Online 550 5.4.1 directory-based edge blocking (corpus rhost-microsoft-02)',
    input: { response: '550 5.4.1 [kijitora@example.org]: Recipient address rejected: Access denied [NEKOCHAN.cat-neko22.prod.protection.outlook.com]' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'Yahoo: no such account',
    input: { response: "554 delivery error: dd This user doesn't have a yahoo.com account (kijitora@yahoo.com) [0] - mta1010.mail.gq1.yahoo.com" },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'Orange: invalid recipient with 5.5.0 (corpus rhost-franceptt-02)',
    input: { response: '550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'null MX (Postfix 556 5.1.10)',
    input: { response: '556 5.1.10 <kijitora@example.com>: Recipient address rejected: Domain example.com does not accept mail (nullMX)' },
    type: 'hard', reason: 2, cls: 21, category: 'bad-domain', permanent: true, sender: false,
  },
  {
    name: 'NXDOMAIN 550 5.1.2 (corpus smtp-replies notaccept)',
    input: { response: '550 5.1.2 <nekochan@libsisimai.org>... Host unknown (Name server: .: host not found)' },
    type: 'hard', reason: 2, cls: 21, category: 'bad-domain', permanent: true, sender: false,
  },
  {
    name: 'Gmail account disabled: Account disabled, Hard',
    input: { response: '550-5.2.1 The email account that you tried to reach is disabled. Learn more at\n550 5.2.1 https://support.google.com/mail/?p=DisabledUser d2si1234567pla.12 - gsmtp' },
    type: 'hard', reason: 4, cls: 10, category: 'inactive-mailbox', permanent: true, sender: false,
  },
  {
    name: 'address moved (corpus smtp-replies hasmoved)',
    input: { response: '550 5.1.6 address neko@cat.cat has been replaced by neko@example.jp' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'Naver: no such user, with its help link (a naver.com bounce quoted in yourdigitalrights.org issue 736)',
    input: { response: '550 5.1.1 No such user. For more information, go to https://help.naver.com/alias/mail/newmail10.naver YFIkhhfiSGCl2Nuynp4eNQ - nsmtp', command: 'RCPT TO' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'Seznam.cz: the address has no mail service (napoveda.seznam.cz/uzivatel-neexistuje)',
    input: { response: '550 5.1.1 szn; User hasn\'t got the service mapped' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'au (KDDI): "550 <address>: User unknown" is a missing mailbox (sisimai for-kddi.go)',
    input: { response: '550 <neko@ezweb.ne.jp>: User unknown', command: 'RCPT TO' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },

  // --- recipient: Soft
  {
    name: 'au (KDDI): "550 : User unknown" (no address) is the recipient\'s reception filter: Refused (corpus rhost-gsuite-08.eml)',
    input: { response: '550 : User unknown', command: 'RCPT TO' },
    type: 'soft', reason: 20, cls: 50, category: 'blocked-by-recipient', permanent: true, sender: false,
  },
  {
    name: 'Italiaonline (Libero): "recipient rejected" is also its overload answer, never Hard (Adobe Campaign docs, Italia Online outage)',
    input: { response: '550 <mario.rossi@libero.it> recipient rejected', command: 'RCPT TO' },
    type: 'soft', reason: 3, cls: 20, category: 'remote-system-error', permanent: true, sender: false,
  },
  {
    name: 'a local delivery program failed (x-unix), even if it says "No such user" (corpus lhost-postfix-01.eml)',
    input: { response: '5.1.1 x-unix; procmail: Couldn\'t create "/var/spool/mail/neko" id: r.example.org: No such user' },
    type: 'soft', reason: 3, cls: 20, category: 'remote-system-error', permanent: true, sender: false,
  },
  {
    name: 'an x-unix quota message is still a full mailbox (corpus rfc3464-09.eml)',
    input: { response: '4.3.0 x-unix; Quota exceeded message delivery failed to /var/mail/box/u/00/f/kijitora/INBOX' },
    type: 'soft', reason: 5, cls: 22, category: 'quota-issues', permanent: false, sender: false,
  },
  {
    name: 'a gateway without a route (corpus lhost-x3-02.eml)',
    input: { response: 'Routing: Could not find a gateway for kijitora@example.co.jp', permanent: true },
    type: 'soft', reason: 3, cls: 20, category: 'routing-error', permanent: true, sender: false,
  },
  {
    name: 'Gmail 452-4.2.2 over quota',
    input: {
      code: 452,
      response: '452-4.2.2 The email account that you tried to reach is over quota. Please direct\r\n452-4.2.2 the recipient to\r\n452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp k5si1234567qkf.99 - gsmtp',
    },
    type: 'soft', reason: 5, cls: 22, category: 'quota-issues', permanent: false, sender: false,
  },
  {
    name: 'iCloud 552 5.2.2 over quota (corpus rhost-apple-03)',
    input: { response: '552 5.2.2 <pseudo-local-part-of-apple-icloud-mail@icloud.com>: user is over quota' },
    type: 'soft', reason: 5, cls: 22, category: 'quota-issues', permanent: true, sender: false,
  },
  {
    name: '552 5.2.2 mailbox full (corpus rhost-aol-02)',
    input: { response: '550 5.2.2 <kijitora@example.co.jp>... Mailbox Full' },
    type: 'soft', reason: 5, cls: 22, category: 'quota-issues', permanent: true, sender: false,
  },
  {
    name: 'greylisting 451 4.7.1 (postgrey-style text)',
    input: { response: '451 4.7.1 Greylisting in action, please come back later' },
    type: 'soft', reason: 3, cls: 70, category: 'greylisted', permanent: false, sender: false,
  },
  {
    name: 'greylisting: a bare 451 4.7.1',
    input: { response: '451 4.7.1 Please try again later' },
    type: 'soft', reason: 3, cls: 70, category: 'greylisted', permanent: false, sender: false,
  },
  {
    name: 'Outlook: domain not reachable is Invalid domain but Soft (corpus rhost-outlook-03)',
    input: { response: '554 The mail could not be delivered to the recipient because the domain is not reachable. Please check the domain and try again (-1915321397:308:-2147467259)' },
    type: 'soft', reason: 2, cls: 21, category: 'bad-domain', permanent: true, sender: false,
  },
  {
    name: 'suspended account is Account disabled, Soft (corpus smtp-replies suspend)',
    input: { response: '550 5.0.0 Recipient suspend the service' },
    type: 'soft', reason: 4, cls: 20, category: 'inactive-mailbox', permanent: true, sender: false,
  },
  {
    name: '4xx user unknown is transient, so Soft',
    input: { response: '450 4.1.1 <kijitora@example.org>: Recipient address rejected: User unknown in virtual alias table' },
    type: 'soft', reason: 1, cls: 10, category: 'bad-mailbox', permanent: false, sender: false,
  },
  {
    name: 'message too large 552 5.3.4',
    input: { response: '552 5.3.4 Message size exceeds fixed limit' },
    type: 'soft', reason: 20, cls: 23, category: 'message-too-large', permanent: true, sender: false,
  },
  {
    name: 'relaying denied (corpus smtp-replies)',
    input: { response: '550 5.7.1 Unable to relay for neko@example.com' },
    type: 'soft', reason: 3, cls: 54, category: 'relaying-denied', permanent: true, sender: false,
  },
  {
    name: 'delivery time expired (corpus smtp-replies)',
    input: { response: '421 4.4.7 Delivery time expired' },
    type: 'soft', reason: 3, cls: 24, category: 'message-expired', permanent: false, sender: false,
  },
  {
    name: 'out-of-office auto-reply is Ignored (corpus smtp-replies vacation)',
    input: { response: 'I am out of the office until 02/02/2018' },
    type: 'ignored', reason: 25, cls: 60, category: 'auto-reply', permanent: false, sender: false,
  },

  // --- sender: always Soft, senderSignal
  {
    name: 'Gmail 421-4.7.28 unusual rate',
    input: {
      code: 421,
      response:
        '421-4.7.28 [192.0.2.1      15] Our system has detected an unusual rate of\r\n421-4.7.28 unsolicited mail originating from your IP address. To protect our\r\n421-4.7.28 users from spam, mail sent from your IP address has been temporarily\r\n421-4.7.28 rate limited. Please visit\r\n421-4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to\r\n421 4.7.28 review our Bulk Email Senders Guidelines. a1si123456qkf.1 - gsmtp',
    },
    type: 'soft', reason: 20, cls: 50, category: 'rate-limited', permanent: false, sender: true,
  },
  {
    name: 'Microsoft 550 5.7.1 S3150 block list: permanent, still Soft',
    input: {
      code: 550,
      command: 'RCPT TO',
      response:
        "550 5.7.1 Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [DM6NAM12FT012.eop-nam12.prod.protection.outlook.com]",
    },
    type: 'soft', reason: 20, cls: 51, category: 'ip-reputation', permanent: true, sender: true,
  },
  {
    name: 'Microsoft 451 4.7.650 IP reputation (corpus rhost-microsoft-05)',
    input: { response: '451 4.7.650 The mail server [192.0.2.25] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S3113)' },
    type: 'soft', reason: 20, cls: 51, category: 'ip-reputation', permanent: false, sender: true,
  },
  {
    name: 'Yahoo 421 4.7.0 [TSS04] (corpus rhost-yahooinc-02)',
    input: { response: '421 4.7.0 [TSS04] Messages from 192.0.2.192 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.verizonmedia.com/error-codes' },
    type: 'soft', reason: 20, cls: 50, category: 'rate-limited', permanent: false, sender: true,
  },
  {
    name: 'Yandex 554 5.7.1 spam',
    input: { response: '554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc 1600000000-abcdEFGH' },
    type: 'soft', reason: 20, cls: 52, category: 'spam-related', permanent: true, sender: true,
  },
  {
    name: 'Spamhaus listing via Postfix RBL reply',
    input: { response: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1' },
    type: 'soft', reason: 20, cls: 51, category: 'ip-reputation', permanent: true, sender: true,
  },
  {
    name: 'Gmail 550-5.7.26 SPF/DKIM (corpus rhost-google-04)',
    input: { response: '550-5.7.26 This mail has been blocked because the sender is unauthenticated. 550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM.' },
    type: 'soft', reason: 20, cls: 50, category: 'auth-failure', permanent: true, sender: true,
  },
  {
    name: 'iCloud DMARC reject (corpus rhost-apple-02)',
    input: { response: "554 5.7.1 Your message was rejected due to libsisimai.org's DMARC policy. See https://support.apple.com/en-us/HT204137 for info" },
    type: 'soft', reason: 20, cls: 50, category: 'auth-failure', permanent: true, sender: true,
  },
  {
    name: 'GoDaddy uses 5.1.1 for its hourly limit (corpus rhost-godaddy-03): not a Hard user unknown',
    input: { response: '550 5.1.1 <kijitora@example.com>  - 203.0.113.222 has sent to too many recipients this hour. IB607  <http://x.co/rlbounce>' },
    type: 'soft', reason: 20, cls: 50, category: 'rate-limited', permanent: true, sender: true,
  },
  {
    name: 'Orange "service refused" (corpus rhost-franceptt-07)',
    input: { response: '421 mwinf5c77 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR_999 [999]' },
    type: 'soft', reason: 20, cls: 50, category: 'rate-limited', permanent: false, sender: true,
  },
  {
    name: 'envelope sender rejected (corpus rhost-gsuite-11)',
    input: { response: '501 5.1.8 Sender address rejected', command: 'MAIL FROM' },
    type: 'soft', reason: 20, cls: 50, category: 'sender-rejected', permanent: true, sender: true,
  },

  {
    name: 'La Poste: an archived (long unused) mailbox is Account disabled, Soft (sisimai p5 issue 241)',
    input: { response: '550 550 5.1.1 Boite du destinataire archivee. Archived recipient. LPN004_420 [420]', command: 'RCPT TO' },
    type: 'soft', reason: 4, cls: 20, category: 'inactive-mailbox', permanent: true, sender: false,
  },
  {
    name: 'QQ: per-IP frequency limit (service.mail.qq.com/detail/122/172)',
    input: { response: '550 Ip frequency limited', command: 'RCPT TO' },
    type: 'soft', reason: 20, cls: 50, category: 'rate-limited', permanent: true, sender: true,
  },
  {
    name: 'QQ: "mailbox unavailable or access denied" is a receiving-rate limit, never Hard (detail/122/166)',
    input: { response: '550 Mailbox unavailable or access denied', command: 'RCPT TO' },
    type: 'soft', reason: 20, cls: 50, category: 'rate-limited', permanent: true, sender: true,
  },
  {
    name: 'QQ: content judged spam (detail/122/171)',
    input: { response: '550 Mail content denied.', command: 'DATA' },
    type: 'soft', reason: 20, cls: 52, category: 'spam-related', permanent: true, sender: true,
  },
  {
    name: 'NetEase 163: DT:SPM content judged spam',
    input: { response: '554 DT:SPM 163 smtp5,D9GowACHO7RNWNdXmXs1Bw--.9035S2 1473730639, please see http://mail.163.com/help/help_spam_16.htm?ip=192.0.2.10&hostid=smtp5&time=1473730639' },
    type: 'soft', reason: 20, cls: 52, category: 'spam-related', permanent: true, sender: true,
  },
  {
    name: 'Naver: the sending IP is filtered until registered at realip.naver.com',
    input: { response: '421 4.3.2 Your IP( is filtered and this connection will be closed. You must register your IP to http://realip.naver.com', command: 'CONN' },
    type: 'soft', reason: 20, cls: 51, category: 'ip-reputation', permanent: false, sender: true,
  },
  {
    name: 'Daum/Kakao (hanmail.net): automatic anti-spam IP block',
    input: { response: '554 5.7.1 DAS51 2***.***.***.***: Your mail is blocked automatically by anti-spam system. (E06)', command: 'RCPT TO' },
    type: 'soft', reason: 20, cls: 51, category: 'ip-reputation', permanent: true, sender: true,
  },
  {
    name: 'NTT docomo: "550 Unknown user" at RCPT TO is a missing mailbox (sisimai for-nttdocomo.go)',
    input: { response: '550 Unknown user neko@docomo.ne.jp', command: 'RCPT TO' },
    type: 'hard', reason: 1, cls: 10, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'NTT docomo: the same words after DATA were its reception filter (until March 2025): Refused, Soft',
    input: { response: '550 Unknown user neko@docomo.ne.jp (in reply to end of DATA command)' },
    type: 'soft', reason: 20, cls: 50, category: 'bad-mailbox', permanent: true, sender: false,
  },

  // --- phase: a recipient category outside RCPT TO is never Hard
  {
    name: 'our sending host name does not resolve back to our IP (corpus lhost-exim-38.eml)',
    input: { code: 450, response: '450 service permits 2 unverifyable sending IPs - neko.example.com is not 203.0.113.222' },
    type: 'soft', reason: 20, cls: 50, category: 'ptr-required', permanent: false, sender: true,
  },
  {
    name: '550 5.1.1 answered to MAIL FROM is about our envelope sender, a shaping signal',
    input: { code: 550, response: '550 5.1.1 <bounce@example.com>... User unknown', command: 'MAIL FROM' },
    type: 'soft', reason: 20, cls: 50, category: 'sender-rejected', permanent: true, sender: true,
  },
  {
    // corpus lhost-exim-51.eml: "SMTP error from remote mail server after MAIL FROM:<...>"
    name: 'a weak addressing status at MAIL FROM is about our sender too',
    input: { code: 553, response: '553 5.1.0 neko22nyaan neko.example.com does not exist E2110', command: 'MAIL FROM' },
    type: 'soft', reason: 20, cls: 50, category: 'sender-rejected', permanent: true, sender: true,
  },
  {
    // corpus lhost-qmail-04.eml: "Connected to 192.0.2.112 but my name was rejected."
    name: 'a permanent refusal of our HELO name is about our host, whatever rule the words hit',
    input: { code: 501, response: "501 5.0.0 Invalid domain name I'm not going to try again; this message has been in the queue too long.", command: 'HELO' },
    type: 'soft', reason: 20, cls: 50, category: 'policy-related', permanent: true, sender: true,
  },
  {
    name: 'a transient reply at connection time keeps its own meaning (Unreachable)',
    input: { code: 421, response: '421 mx.example.com Service not available, closing transmission channel', command: 'CONN' },
    type: 'soft', reason: 3, cls: 20, category: 'undetermined', permanent: false, sender: false,
  },
  {
    name: '"user unknown" after DATA: the recipient was accepted, a filter is talking',
    input: { code: 550, response: '550 Unknown user kijitora@example.jp', command: 'DATA' },
    type: 'soft', reason: 20, cls: 50, category: 'bad-mailbox', permanent: true, sender: false,
  },
  {
    name: 'the DSN note "(in reply to end of DATA command)" stands in for the command',
    input: { response: '550 Unknown user kijitora@example.net (in reply to end of DATA command)' },
    type: 'soft', reason: 20, cls: 50, category: 'bad-mailbox', permanent: true, sender: false,
  },

  // --- transport errors: always transient
  {
    name: 'ETIMEDOUT without a reply',
    input: { errorCode: 'ETIMEDOUT', response: 'Connection timeout' },
    type: 'soft', reason: 3, cls: 70, category: 'no-answer-from-host', permanent: false, sender: false,
  },
  {
    name: 'ECONNECTION without a reply',
    input: { errorCode: 'ECONNECTION', response: 'Connection closed unexpectedly' },
    type: 'soft', reason: 3, cls: 70, category: 'no-answer-from-host', permanent: false, sender: false,
  },
  {
    name: 'ECONNREFUSED',
    input: { errorCode: 'ECONNREFUSED', response: 'connect ECONNREFUSED 192.0.2.1:25' },
    type: 'soft', reason: 3, cls: 70, category: 'no-answer-from-host', permanent: false, sender: false,
  },
  {
    name: 'ESOCKET',
    input: { errorCode: 'ESOCKET' },
    type: 'soft', reason: 3, cls: 70, category: 'no-answer-from-host', permanent: false, sender: false,
  },
  {
    name: 'EDNS',
    input: { errorCode: 'EDNS', response: 'getaddrinfo ENOTFOUND mx.example.com' },
    type: 'soft', reason: 2, cls: 21, category: 'dns-failure', permanent: false, sender: false,
  },
  {
    name: 'a transport code WITH a reply code is classified by the reply',
    input: { errorCode: 'ECONNECTION', code: 554, response: '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org', command: 'CONN' },
    type: 'soft', reason: 20, cls: 51, category: 'ip-reputation', permanent: true, sender: true,
  },

  // --- unclassified: Soft "Not defined" (Campaign treats what it cannot categorise as Soft)
  {
    name: 'unclassified 5xx (corpus rhost-messagelabs-03)',
    input: { response: '542 kijitora@example.com Rejected', command: 'RCPT TO' },
    type: 'soft', reason: 0, cls: 40, category: 'undetermined', permanent: true, sender: false,
  },
  {
    name: 'unclassified 4xx',
    input: { response: '421 mx.example.com Service not available, closing transmission channel' },
    type: 'soft', reason: 3, cls: 20, category: 'undetermined', permanent: false, sender: false,
  },
  {
    name: 'no code, unknown text',
    input: { response: 'Your message could not be processed by the gateway at this time' },
    type: 'soft', reason: 0, cls: 1, category: 'undetermined', permanent: false, sender: false,
  },
  {
    name: 'no code, a delay notice: Unreachable, Soft (corpus smtp-replies, sisimai expired)',
    input: { response: 'Delivery to the following recipient has been delayed: Message will be retried for 2 more day(s)' },
    type: 'soft', reason: 3, cls: 24, category: 'message-expired', permanent: false, sender: false,
  },
  {
    name: 'nothing at all',
    input: {},
    type: 'soft', reason: 0, cls: 1, category: 'undetermined', permanent: false, sender: false,
  },
];

for (const c of CASES) {
  test(`classifyReply: ${c.name}`, () => {
    const got = classifyReply(c.input, rules);
    assert.deepEqual(
      {
        type: got.failure.type,
        reason: got.failure.reasonCode,
        cls: got.failure.bounceClass,
        category: got.failure.category,
        permanent: got.permanent,
        sender: got.senderSignal,
      },
      { type: c.type, reason: c.reason, cls: c.cls, category: c.category, permanent: c.permanent, sender: c.sender },
      `rule line ${got.ruleLine ?? '-'}: ${got.failure.message}`,
    );
  });
}

test('classifyReply: the failure carries the reason label and the normalised reply as message', () => {
  const got = classifyReply(CASES[0]!.input, rules);
  assert.equal(got.failure.reason, 'User unknown');
  assert.equal(
    got.failure.message,
    "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. Learn more at https://support.google.com/mail/?p=NoSuchUser y3si675602plr.1 - gsmtp",
  );
  assert.equal(typeof got.ruleLine, 'number');
});

test('classifyReply: a transport error names its code in the message', () => {
  const got = classifyReply({ errorCode: 'ETIMEDOUT', response: 'Connection timeout' }, rules);
  assert.equal(got.failure.message, 'ETIMEDOUT: Connection timeout');
  assert.equal(got.ruleLine, undefined);
});

test('classifyReply: sender-related replies are never Hard, whatever the code and phase', () => {
  for (const rule of rules.filter((r) => r.senderSignal)) {
    for (const sample of rule.samples) {
      const got = classifyReply({ response: sample, command: 'RCPT TO' }, rules);
      assert.notEqual(got.failure.type, 'hard', `line ${rule.line}: ${sample}`);
      assert.equal(got.senderSignal, true, `line ${rule.line}: ${sample}`);
    }
  }
});

test('classifyReply: every transient sample is Soft or Ignored', () => {
  for (const rule of rules) {
    for (const sample of rule.samples) {
      const got = classifyReply({ response: sample }, rules);
      if (!got.permanent) assert.notEqual(got.failure.type, 'hard', `line ${rule.line}: ${sample}`);
    }
  }
});

test('canBeHard: only RCPT TO or an unknown phase', () => {
  assert.equal(canBeHard(undefined), true);
  assert.equal(canBeHard('RCPT TO'), true);
  assert.equal(canBeHard('rcpt to'), true);
  for (const c of ['CONN', 'EHLO', 'HELO', 'STARTTLS', 'AUTH PLAIN', 'MAIL FROM', 'DATA']) assert.equal(canBeHard(c), false, c);
  assert.equal(canBeHard(undefined, '550 5.1.1 User unknown (in reply to RCPT TO command)'), true);
  assert.equal(canBeHard(undefined, '550 5.1.1 User unknown (in reply to end of DATA command)'), false);
});

test('classifyReply: hard-if-rcpt texts need confirmation only when a report quotes them', () => {
  const rows: [string, ReplyInput, FailureType][] = [
    // corpus lhost-mcafee-01.eml: a gateway's DSN, no phase, no status
    ['quoted, no phase', { response: '550 Unknown user kijitora@example.co.jp', quoted: true, permanent: true }, 'soft'],
    ['quoted, RCPT TO', { response: '550 Unknown user kijitora@example.co.jp', quoted: true, permanent: true, command: 'RCPT TO' }, 'hard'],
    ['quoted, (in reply to RCPT TO command)', { response: '550 Unknown user kijitora@example.co.jp (in reply to RCPT TO command)', quoted: true }, 'hard'],
    ['quoted, 5.1.1', { response: '550 5.1.1 <kijitora@example.jp>... User unknown', quoted: true }, 'hard'],
    ['quoted, 5.1.351', { response: '550 5.1.351 Remote server returned unknown recipient or mailbox unavailable -> 550 Unknown user a@example.ne.jp', quoted: true }, 'hard'],
    ['quoted, 5.2.1 only', { response: '550 5.2.1 <kijitora@libsisimai.org>... User Unknown', quoted: true }, 'soft'],
    // our own session, or a bare reply (CLI): unchanged
    ['own session, no command', { response: '550 Unknown user kijitora@example.co.jp' }, 'hard'],
    // a report's own verdict, no reply code (corpus lhost-imailserver-03.eml)
    ['own verdict', { response: 'Invalid final delivery userid: kijitora@neko.example.co.jp', permanent: true }, 'hard'],
    // provider rules are not affected: Apache James's own notice (corpus lhost-verizon-02.eml)
    ['James notice, quoted', { response: '550 - Requested action not taken: no such user here', quoted: true, permanent: true }, 'hard'],
    ['Verizon MMS', { response: 'Error: No valid recipients for this MM', permanent: true }, 'hard'],
  ];
  for (const [name, input, type] of rows) {
    const got = classifyReply(input, rules);
    assert.equal(got.failure.type, type, `${name} (line ${got.ruleLine ?? '-'})`);
    assert.equal(got.failure.reasonCode, 1, name);
  }
});
