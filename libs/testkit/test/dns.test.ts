import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { startDns } from '@mta/testkit';
test('the test DNS server answers long TXT records split into 255-byte strings', async () => {
  const long = 'v=DKIM1; k=rsa; p=' + 'A'.repeat(400);
  const dns = await startDns({ 's1._domainkey.example.test': { txt: [long] } });
  const r = new Resolver(); r.setServers([dns.server]);
  const got = await r.resolveTxt('s1._domainkey.example.test');
  assert.equal(got[0]!.join(''), long);
  await dns.close();
});
