#!/usr/bin/env python3
"""Certificate names in the records against the certificates the world
generator wrote (DESIGN section 2: the record keeps the certificate's
names).

Usage: compare_certs.py WORLD_DIR EXPORT.jsonl

The ground truth is the world, not the scanner: nginx.conf names, per
server_name, the certificate file it serves, and that file's
subjectAltName (read with `openssl x509`) is what the scanner must have
recorded for the policy host mta-sts.DOMAIN, in order.  A record whose
certificate was not seen (cert_not_after 0) must carry no names.  Exit 1
with one line per difference; a summary line either way.
"""
import json
import os
import re
import subprocess
import sys


def served_certs(world):
    """server_name -> certificate path, from the world's nginx.conf."""
    conf = open(os.path.join(world, "nginx", "nginx.conf")).read()
    out = {}
    for block in re.findall(r"server \{(.*?)\n\t\}", conf, re.S):
        name = re.search(r"server_name ([^;]+);", block)
        cert = re.search(r"ssl_certificate ([^;]+);", block)
        if name and cert:
            path = os.path.normpath(os.path.join(world, "nginx",
                                                 cert.group(1)))
            for n in name.group(1).split():
                out[n] = path
    return out


def san_names(path):
    text = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-ext",
                           "subjectAltName"], check=True,
                          capture_output=True, text=True).stdout
    return re.findall(r"DNS:([^,\s]+)", text)


def main():
    world, export = sys.argv[1], sys.argv[2]
    certs = served_certs(world)
    bad, compared, unseen = [], 0, 0
    for line in open(export):
        r = json.loads(line)
        host = "mta-sts." + r["domain"]
        names = r["cert_names"]
        if r["cert_not_after"] == 0:
            unseen += 1
            if names or r["cert_names_total"] != 0:
                bad.append("%s: names %s, but no certificate seen"
                           % (r["domain"], names))
            continue
        if host not in certs:
            bad.append("%s: a certificate seen for %s, which the world "
                       "does not serve" % (r["domain"], host))
            continue
        want = san_names(certs[host])
        compared += 1
        if names != want[:16] or r["cert_names_total"] != len(want):
            bad.append("%s: names %s (total %d), the world's certificate "
                       "has %s" % (r["domain"], names,
                                   r["cert_names_total"], want))
    for b in bad:
        print(b)
    print("certificate names: %d records compared with the world's "
          "certificates, %d without a certificate, %d differences"
          % (compared, unseen, len(bad)))
    # The catalog serves dozens of policy hosts over TLS: a handful means
    # the names were not recorded at all.
    if compared < 20:
        print("too few records with a certificate to compare")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
