#!/usr/bin/env python3
"""e2e-csr.py: the certificate requests of bench/e2e.sh, made quickly.

Every certificate needs a key of its own (the signer certifies a key once), so a run of
10,000 forms needs 20,000 RSA-2048 requests. Generating 20,000 keys takes longer than the
run it serves on a small machine (the primes are the cost: some 60-150 ms of CPU a key).
This makes a pool of primes from a few ordinary keys and builds each request's key from a
different pair of them: n primes give n(n-1)/2 distinct 2048-bit moduli, and a request
costs one signature. Keys that share a prime with another are worthless outside a bench
(a gcd finds the factor): they are made for the signer to certify and thrown away.

usage: e2e-csr.py DIR COUNT   writes DIR/s<i>.csr and DIR/e<i>.csr for i < COUNT (PEM),
                              keeping those already there.
"""
import math
import multiprocessing
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

E = 65537


def pair(k):
    """The K-th pair (i, j), i < j, in the order (0,1), (0,2), (1,2), (0,3), ..."""
    j = int((1 + math.isqrt(1 + 8 * k)) // 2)
    while j * (j - 1) // 2 > k:
        j -= 1
    while (j + 1) * j // 2 <= k:
        j += 1
    return k - j * (j - 1) // 2, j


def key_of(p, q):
    d = pow(E, -1, (p - 1) * (q - 1) // math.gcd(p - 1, q - 1))
    nums = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), rsa.rsa_crt_iqmp(p, q),
                                 rsa.RSAPublicNumbers(E, p * q))
    return nums.private_key(unsafe_skip_rsa_key_validation=True)


def primes_of(_):
    n = rsa.generate_private_key(public_exponent=E, key_size=2048).private_numbers()
    return [n.p, n.q]


def make(job):
    path, name, p, q = job
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
           .sign(key_of(p, q), hashes.SHA256()))
    with open(path + ".tmp", "wb") as f:
        f.write(csr.public_bytes(serialization.Encoding.PEM))
    os.rename(path + ".tmp", path)


def main():
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print("usage: " + __doc__.split("usage: ")[1].strip(), file=sys.stdout if len(sys.argv) > 1 else sys.stderr)
        return 0 if len(sys.argv) > 1 else 2
    out, count = sys.argv[1], int(sys.argv[2])
    todo = [(os.path.join(out, f"{u}{i}.csr"), f"{u}{i}") for i in range(count) for u in "se"]
    todo = [t for t in todo if not os.path.exists(t[0])]
    if not todo:
        return 0
    n = 2
    while n * (n - 1) // 2 < len(todo):
        n += 1
    with multiprocessing.Pool(os.cpu_count()) as pool:
        primes = [p for two in pool.map(primes_of, range((n + 1) // 2)) for p in two]
        jobs = [(path, name) + tuple(primes[x] for x in pair(k)) for k, (path, name) in enumerate(todo)]
        pool.map(make, jobs, chunksize=64)
    return 0


if __name__ == "__main__":
    sys.exit(main())
