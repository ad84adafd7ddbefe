#!/usr/bin/env python3
"""A tiny recursive-looking DNS server for the command-line tests.

Answers every question over UDP on ADDR:PORT with RA set: ". NS" with one
NS record (so stsmap's start-up canary sees a recursive upstream), every
other name NXDOMAIN.  A scan against it stores real no-policy records
without any network.  Runs until killed, or SECONDS seconds.

Usage: dns_stub.py ADDR PORT [SECONDS]
"""
import socket
import struct
import sys
import time


def qname_end(msg, off):
    while msg[off] != 0:
        off += 1 + msg[off]
    return off + 1


def answer(msg):
    if len(msg) < 12:
        return None
    qid, flags = struct.unpack("!HH", msg[:4])
    end = qname_end(msg, 12)
    qtype = struct.unpack("!H", msg[end:end + 2])[0]
    question = msg[12:end + 4]
    rd = flags & 0x0100
    root_ns = msg[12] == 0 and qtype == 2
    rcode = 0 if root_ns else 3
    hdr = struct.pack("!HHHHHH", qid, 0x8000 | rd | 0x0080 | rcode, 1,
                      1 if root_ns else 0, 0, 0)
    out = hdr + question
    if root_ns:
        rdata = b"\x01a\x04test\x00"
        out += b"\x00" + struct.pack("!HHIH", 2, 1, 3600, len(rdata)) + rdata
    return out


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    limit = float(sys.argv[3]) if len(sys.argv) > 3 else 300.0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(0.5)
    stop = time.monotonic() + limit
    while time.monotonic() < stop:
        try:
            msg, peer = s.recvfrom(4096)
        except socket.timeout:
            continue
        try:
            out = answer(msg)
        except (IndexError, struct.error):
            out = None
        if out is not None:
            s.sendto(out, peer)


if __name__ == "__main__":
    main()
