import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failureReply, judgeTransportError, parseEnhancedCode, parseReplyCode, successReply, toSendError } from '../src/smtp-result.ts';

test('parseEnhancedCode / parseReplyCode', () => {
  const cases: [string | undefined, number | undefined, string | undefined][] = [
    ['550 5.1.1 user unknown', 550, '5.1.1'],
    ['451 4.7.1 greylisted', 451, '4.7.1'],
    ['250 2.0.0 Ok: queued as 123', 250, '2.0.0'],
    ['250 OK: message queued', 250, undefined],
    ['550-5.7.1 multi\n550 5.7.1 line', 550, '5.7.1'],
    ['421 4.7.28 unusual rate', 421, '4.7.28'],
    ['554 5.7.1', 554, '5.7.1'],
    ['554 5.7.1a', 554, undefined],
    ['garbage', undefined, undefined],
    [undefined, undefined, undefined],
  ];
  for (const [resp, code, enh] of cases) {
    assert.equal(parseReplyCode(resp), code, String(resp));
    assert.equal(parseEnhancedCode(resp), enh, String(resp));
  }
});

test('toSendError keeps nodemailer\'s shape', () => {
  const e = toSendError(Object.assign(new Error('Can\'t send mail - all recipients were rejected: 550 5.1.1 user unknown'), {
    code: 'EENVELOPE',
    responseCode: 550,
    response: '550 5.1.1 user unknown',
    command: 'RCPT TO',
  }));
  assert.deepEqual(e, {
    code: 'EENVELOPE',
    message: 'Can\'t send mail - all recipients were rejected: 550 5.1.1 user unknown',
    responseCode: 550,
    response: '550 5.1.1 user unknown',
    command: 'RCPT TO',
  });
  assert.deepEqual(failureReply(e, 'mx.test:25'), { code: 550, enhancedCode: '5.1.1', response: '550 5.1.1 user unknown', mx: 'mx.test:25', command: 'RCPT TO' });
  assert.deepEqual(toSendError(new Error('Connection pool was closed')), { code: 'ECONNECTION', message: 'Connection pool was closed', command: 'CONN' });
  assert.deepEqual(toSendError('weird'), { code: 'ECONNECTION', message: 'weird', command: 'CONN' });
  assert.deepEqual(successReply('250 2.0.0 Ok', 'mx:25'), { code: 250, enhancedCode: '2.0.0', response: '250 2.0.0 Ok', mx: 'mx:25', command: 'DATA' });
});

test('judgeTransportError: failover on host failures, remember only session set-up failures', () => {
  const e = (x: Record<string, unknown>) => toSendError(Object.assign(new Error(String(x.message ?? 'x')), x));
  const cases: [string, Record<string, unknown>, boolean, boolean][] = [
    ['refused', { code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN' }, true, true],
    ['unreachable', { code: 'ESOCKET', originalCode: 'EHOSTUNREACH', command: 'CONN' }, true, true],
    ['connect timeout', { code: 'ETIMEDOUT', timeoutType: 'CONNECT_TIMEOUT', command: 'CONN' }, true, true],
    ['greeting timeout', { code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT', command: 'CONN' }, true, true],
    ['greeting refused', { code: 'EPROTOCOL', command: 'CONN', response: '554 5.7.1 go away' }, true, true],
    ['dropped repeatedly', { code: 'ECONNECTION', message: 'Reached maximum number of retries after connection was closed' }, true, true],
    ['socket timeout mid-session', { code: 'ETIMEDOUT', timeoutType: 'SOCKET_TIMEOUT', command: 'CONN' }, true, false],
    ['connection reset mid-session', { code: 'ECONNECTION', message: 'Connection closed unexpectedly', command: 'CONN' }, true, false],
    ['TLS failure', { code: 'ETLS', command: 'CONN' }, true, false],
    ['421 on RCPT', { code: 'EENVELOPE', responseCode: 421, command: 'RCPT TO' }, true, false],
    ['validity ended while queued (no other host is tried)', { code: 'EEXPIRED', command: 'CONN' }, false, false],
    ['550 on RCPT', { code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }, false, false],
    ['451 on RCPT', { code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO' }, false, false],
    ['552 on DATA', { code: 'EMESSAGE', responseCode: 552, command: 'DATA' }, false, false],
  ];
  for (const [name, err, failover, remember] of cases) assert.deepEqual(judgeTransportError(e(err)), { failover, remember }, name);
});
