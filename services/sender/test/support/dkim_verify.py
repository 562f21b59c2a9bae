#!/usr/bin/python3
"""Independent DKIM verification for the sender's tests: Debian's python3-dkim (dkimpy, the
library behind `dkimverify`), with public keys fetched from the test DNS server given as
argv[1] (`ip:port`) through dnspython. dkimverify itself always uses the system resolver, so
this is dkimverify's code path with only the DNS lookup pointed elsewhere.

Reads a message on stdin; prints one JSON object per DKIM-Signature: {"d", "s", "a", "ok"}.
"""
import json
import sys

import dkim
import dns.message
import dns.query
import dns.rdatatype

host, port = sys.argv[1].rsplit(':', 1)


def txt(name, timeout=5):
    if isinstance(name, bytes):
        name = name.decode()
    q = dns.message.make_query(name, dns.rdatatype.TXT)
    r = dns.query.udp(q, host, port=int(port), timeout=timeout)
    for rrset in r.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            return b''.join(list(rrset.items)[0].strings)
    return None


msg = sys.stdin.buffer.read()
d = dkim.DKIM(msg)
out = []
for idx, (name, value) in enumerate((n, v) for n, v in d.headers if n.lower() == b'dkim-signature'):
    tags = dkim.util.parse_tag_value(value)
    try:
        ok = bool(d.verify(idx=idx, dnsfunc=txt))
    except dkim.ValidationError:
        ok = False
    out.append({
        'd': tags[b'd'].decode(),
        's': tags[b's'].decode(),
        'a': tags[b'a'].decode(),
        'ok': ok,
    })
print(json.dumps(out))
