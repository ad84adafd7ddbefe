#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_wire_diff: responses as servers send
them (TXT, MX, A, AAAA, CNAME chains, referrals, NXDOMAIN, truncated) and
the malformed ones a decoder must refuse (compression loops, names over
255 octets, RDATA past the message, a wrong question)."""
import os, struct, sys

def name(n):
    out = b''
    for lab in n.split('.'):
        if lab:
            out += bytes([len(lab)]) + lab.encode()
    return out + b'\0'

def hdr(flags, qd, an, ns, ar, qid=0x1234):
    return struct.pack('>HHHHHH', qid, flags, qd, an, ns, ar)

def q(n, t, c=1):
    return name(n) + struct.pack('>HH', t, c)

def rr(owner, t, rdata, ttl=300, c=1):
    o = owner if isinstance(owner, bytes) else name(owner)
    return o + struct.pack('>HHIH', t, c, ttl, len(rdata)) + rdata

def txt(*strs):
    return b''.join(bytes([len(s)]) + s for s in strs)

PTR12 = b'\xc0\x0c'  # the question name
RESP, RESP_AA = 0x8180, 0x8580
A, NS, CNAME, SOA, MX, TXT, AAAA = 1, 2, 5, 6, 15, 16, 28
soa = name('ns1.a.test') + name('host.a.test') + struct.pack('>IIIII', 1, 2, 3, 4, 60)

cases = {
    'txt-sts': hdr(RESP, 1, 1, 0, 0) + q('_mta-sts.a.test', TXT) +
        rr(PTR12, TXT, txt(b'v=STSv1; id=20261207;')),
    'txt-split-two-rrs': hdr(RESP, 1, 2, 0, 0) + q('_mta-sts.a.test', TXT) +
        rr(PTR12, TXT, txt(b'v=STSv1; ', b'id=1;'), 60) +
        rr(PTR12, TXT, txt(b'v=spf1 -all'), 30),
    'txt-empty-string': hdr(RESP, 1, 1, 0, 0) + q('_mta-sts.a.test', TXT) +
        rr(PTR12, TXT, txt(b'')),
    'mx-two': hdr(RESP, 1, 2, 0, 0) + q('example.com', MX) +
        rr(PTR12, MX, struct.pack('>H', 10) + b'\x02mx\xc0\x0c') +
        rr(PTR12, MX, struct.pack('>H', 20) + name('mx2.other.net')),
    'mx-short-rdata': hdr(RESP, 1, 1, 0, 0) + q('example.com', MX) +
        rr(PTR12, MX, struct.pack('>H', 10)),
    'a-two': hdr(RESP, 1, 2, 0, 0) + q('example.com', A) +
        rr(PTR12, A, bytes([192, 0, 2, 1])) + rr(PTR12, A, bytes([192, 0, 2, 2]), 10),
    'a-long-rdata': hdr(RESP, 1, 1, 0, 0) + q('example.com', A) +
        rr(PTR12, A, bytes(8)),
    'a-short-rdata': hdr(RESP, 1, 1, 0, 0) + q('example.com', A) +
        rr(PTR12, A, bytes(3)),
    'aaaa': hdr(RESP, 1, 1, 0, 0) + q('example.com', AAAA) +
        rr(PTR12, AAAA, bytes(15) + b'\x01'),
    'cname-chain-a': hdr(RESP, 1, 3, 0, 0) + q('example.com', A) +
        rr(PTR12, CNAME, name('b.example.net')) +
        rr('B.Example.NET', CNAME, name('c.example.org')) +
        rr('c.example.org', A, bytes([192, 0, 2, 7])),
    'cname-extra-rdata': hdr(RESP, 1, 2, 0, 0) + q('example.com', A) +
        rr(PTR12, CNAME, name('b.example.net') + b'\x00\x00') +
        rr('b.example.net', A, bytes([192, 0, 2, 8])),
    'cname-empty-rdata': hdr(RESP, 1, 1, 0, 0) + q('example.com', A) +
        rr(PTR12, CNAME, b''),
    'cname-2loop': hdr(RESP, 1, 2, 0, 0) + q('example.com', A) +
        rr(PTR12, CNAME, name('b.example.com')) +
        rr('b.example.com', CNAME, PTR12),
    'referral': hdr(0x8100, 1, 0, 2, 1) + q('_mta-sts.a.test', TXT) +
        rr('a.test', NS, name('ns1.a.test'), 3600) +
        rr('a.test', NS, name('ns2.a.test'), 3600) +
        rr('ns1.a.test', A, bytes([127, 1, 0, 1])),
    'referral-aa-cname': hdr(RESP_AA, 1, 1, 1, 0) + q('example.com', A) +
        rr(PTR12, CNAME, name('x.b.test')) + rr('b.test', NS, name('ns.b.test')),
    'nodata-soa': hdr(RESP_AA, 1, 0, 1, 0) + q('example.com', MX) +
        rr('example.com', SOA, soa, 60),
    'nxdomain': hdr(RESP_AA | 3, 1, 0, 1, 0) + q('nope.example.com', A) +
        rr('example.com', SOA, soa, 60),
    'servfail': hdr(0x8182, 1, 0, 0, 0) + q('example.com', TXT),
    'truncated-tc': hdr(0x8380, 1, 0, 0, 0) + q('_mta-sts.a.test', TXT),
    'truncated-mid-rr': (hdr(RESP, 1, 1, 0, 0) + q('_mta-sts.a.test', TXT) +
        rr(PTR12, TXT, txt(b'v=STSv1; id=1;')))[:-5],
    'opt-additional': hdr(0x81a0, 1, 1, 0, 1) + q('example.com', A) +
        rr(PTR12, A, bytes([192, 0, 2, 1])) + b'\x00' + struct.pack('>HHIH', 41, 1232, 0x8000, 0),
    'loop-self': hdr(RESP, 1, 0, 0, 0) + b'\xc0\x0c' + struct.pack('>HH', A, 1),
    'loop-two': hdr(RESP, 1, 1, 0, 0) + q('example.com', A) +
        b'\xc0\x1f' + b'\xc0\x1d' + struct.pack('>HHIH', A, 1, 0, 4) + bytes(4),
    'loop-label': hdr(RESP, 1, 1, 0, 0) + q('example.com', A) +
        b'\x01a\xc0\x1d' + struct.pack('>HHIH', A, 1, 0, 4) + bytes(4),
    'pointer-forward': hdr(RESP, 1, 1, 0, 0) + q('example.com', A) +
        b'\xc0\x21' + struct.pack('>HHIH', A, 1, 0, 4) + bytes(4) + b'\x00',
    'pointer-to-zero': hdr(RESP, 1, 0, 0, 0) + b'\xc0\x00' + struct.pack('>HH', A, 1),
    'name-255': hdr(RESP, 1, 0, 0, 0) + (b'\x3f' + b'a' * 63) * 3 + b'\x3d' + b'b' * 61 + b'\x00' + struct.pack('>HH', A, 1),
    'name-256': hdr(RESP, 1, 0, 0, 0) + (b'\x3f' + b'a' * 63) * 3 + b'\x3e' + b'b' * 62 + b'\x00' + struct.pack('>HH', A, 1),
    'label-64': hdr(RESP, 1, 0, 0, 0) + b'\x40' + b'a' * 64 + b'\x00' + struct.pack('>HH', A, 1),
    'rdlength-past-end': hdr(RESP, 1, 1, 0, 0) + q('example.com', A) +
        PTR12 + struct.pack('>HHIH', A, 1, 0, 40) + bytes(4),
    'wrong-question-name': hdr(RESP, 1, 1, 0, 0) + q('example.net', A) +
        rr(PTR12, A, bytes(4)),
    'wrong-question-type': hdr(RESP, 1, 1, 0, 0) + q('example.com', AAAA) +
        rr(PTR12, A, bytes(4)),
    'wrong-question-class': hdr(RESP, 1, 0, 0, 0) + q('example.com', A, 3),
    'two-questions': hdr(RESP, 2, 0, 0, 0) + q('example.com', A) + q('example.com', A),
    'question-0x20': hdr(RESP, 1, 1, 0, 0) + q('ExAmPlE.cOm', A) + rr(PTR12, A, bytes(4)),
    'not-response': hdr(0x0100, 1, 0, 0, 0) + q('example.com', A),
    'opcode-notify': hdr(0xa000, 1, 0, 0, 0) + q('example.com', A),
    'trailing-garbage': hdr(RESP, 1, 1, 0, 0) + q('example.com', A) + rr(PTR12, A, bytes(4)) + b'\xff\xff\xff',
    'escaped-owner': hdr(RESP, 1, 1, 0, 0) + q('example.com', CNAME) +
        rr(PTR12, CNAME, b'\x05a.b\x00c\x03com\x00'),
    # More RRs than the decoder keeps from its first walk (16 a section).
    'a-twenty': hdr(RESP, 1, 20, 0, 0) + q('example.com', A) +
        b''.join(rr(PTR12, A, bytes([192, 0, 2, i]), 100 - i) for i in range(20)),
    'cname-chain-20': hdr(RESP, 1, 20, 0, 0) + q('example.com', TXT) +
        rr(PTR12, CNAME, name('c1.example.com')) +
        b''.join(rr('c%d.example.com' % i, CNAME, name('c%d.example.com' % (i + 1))) for i in range(1, 18)) +
        rr('c18.example.com', TXT, txt(b'at the end')) + rr('c17.example.com', TXT, txt(b'not here')),
    'referral-twenty-ns': hdr(0x8100, 1, 0, 20, 0) + q('_mta-sts.a.test', TXT) +
        b''.join(rr('a.test', NS, name('ns%d.a.test' % i)) for i in range(19)) +
        rr('a.test', SOA, soa),
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for k, v in cases.items():
    with open(os.path.join(out, k + '.bin'), 'wb') as f:
        f.write(v)
print(len(cases), 'files')
