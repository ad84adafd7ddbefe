#!/usr/bin/env python3
"""nginx_hold.py ADDR PORT HOST CA COUNT: open COUNT TLS connections to
ADDR:PORT (SNI and Host HOST, the chain verified against CA), one after
the other, and on each send a GET of HOST's policy that announces a
request body (Content-Length) it never sends.  nginx answers a static GET
at once but keeps the request until the body is discarded (its
lingering_timeout, 5 s by default), so every answered request stays "in
progress" for limit_conn while the connection is open: the way a slow
client holds a server's slots.  All connections stay open until every one
has its status line (or 10 s have passed), then close.  Prints one status
code per connection ("000" for none), in the order they were opened.
Loopback addresses only."""
import socket
import ssl
import sys
import time


def main():
    addr, port, host, ca, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    if not addr.startswith("127."):
        sys.exit("nginx_hold: loopback addresses only")
    ctx = ssl.create_default_context(cafile=ca)
    req = (f"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: {host}\r\n"
           "Content-Length: 100000\r\n\r\n").encode()
    conns = []
    for _ in range(count):
        s = ctx.wrap_socket(socket.create_connection((addr, port), timeout=10), server_hostname=host)
        s.sendall(req)
        conns.append(s)
    end = time.monotonic() + 10
    codes = []
    for s in conns:
        s.settimeout(max(0.1, end - time.monotonic()))
        buf = b""
        try:
            while b"\r\n" not in buf:
                c = s.recv(4096)
                if not c:
                    break
                buf += c
        except (socket.timeout, OSError):
            pass
        line = buf.split(b"\r\n", 1)[0].split()
        codes.append(line[1].decode() if len(line) >= 2 and buf.startswith(b"HTTP/") else "000")
    for s in conns:
        s.close()
    print("\n".join(codes))


main()
