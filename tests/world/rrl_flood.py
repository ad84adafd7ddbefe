#!/usr/bin/env python3
"""rrl_flood.py ADDR PORT NAME COUNT: send COUNT identical UDP queries
(TXT NAME, RD off) from one socket as fast as it can, wait 1.5 s for the
answers, and print "sent N full F truncated T dropped D": full answers,
answers with TC set (RRL's slip), and queries never answered.  Only for
the world's loopback servers."""
import select
import socket
import struct
import sys
import time


def query(qid, name):
    hdr = struct.pack(">HHHHHH", qid, 0x0000, 1, 0, 0, 0)
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split("."))
    return hdr + q + b"\x00" + struct.pack(">HH", 16, 1)


def main():
    addr, port, name, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    if not addr.startswith("127."):
        sys.exit("rrl_flood: loopback addresses only")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.connect((addr, port))
    for i in range(count):
        s.send(query(i, name))
    seen, full, tc = set(), 0, 0
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        r, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
        if not r:
            break
        pkt = s.recv(65535)
        if len(pkt) < 12:
            continue
        qid, flags = struct.unpack(">HH", pkt[:4])
        if qid >= count or qid in seen:
            continue
        seen.add(qid)
        if flags & 0x0200:
            tc += 1
        else:
            full += 1
    print(f"sent {count} full {full} truncated {tc} dropped {count - len(seen)}")


main()
