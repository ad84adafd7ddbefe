#!/usr/bin/env python3
"""A DNS relay on loopback, to play an upstream that dies and comes back.

usage: dns_relay.py LISTEN_IP LISTEN_PORT UPSTREAM_IP UPSTREAM_PORT

Relays UDP datagrams (one upstream socket per client address, so query IDs
never collide) and TCP connections (byte for byte) to the upstream.  The
test stops it with SIGSTOP (nothing answers: a dead upstream, sockets and
all kept) and lets it go on with SIGCONT.  SIGTERM ends it.  Prints
"ready" on stdout once both listeners are bound.
"""
import select
import socket
import sys
import threading


def tcp_pipe(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def tcp_accept(lst, up):
    while True:
        c, _ = lst.accept()
        u = socket.create_connection(up)
        threading.Thread(target=tcp_pipe, args=(c, u), daemon=True).start()
        threading.Thread(target=tcp_pipe, args=(u, c), daemon=True).start()


def main():
    lip, lport, uip, uport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    up = (uip, uport)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((lip, lport))
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((lip, lport))
    lst.listen(128)
    threading.Thread(target=tcp_accept, args=(lst, up), daemon=True).start()
    by_client = {}  # client address -> upstream socket
    client_of = {}  # upstream socket -> client address
    print("ready", flush=True)
    while True:
        r, _, _ = select.select([udp] + list(client_of), [], [])
        for s in r:
            if s is udp:
                data, addr = udp.recvfrom(65535)
                u = by_client.get(addr)
                if u is None:
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    u.connect(up)
                    by_client[addr] = u
                    client_of[u] = addr
                try:
                    u.send(data)
                except OSError:
                    pass
            else:
                try:
                    data = s.recv(65535)
                except OSError:
                    continue
                udp.sendto(data, client_of[s])


if __name__ == "__main__":
    main()
