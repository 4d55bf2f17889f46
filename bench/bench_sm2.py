"""Benchmark token signatures: `.venv/bin/python bench/bench_sm2.py [--n 2000]`.

Ed25519 (cryptography), SM2 with SM3 through Tongsuo (tongsuopy, what the platform uses) and through the pure-Python
gmssl (for comparison), signing and verifying the message a certificate token signs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gmssl import sm2 as gmssl_sm2

from certificates import sm2

MESSAGE = b"v1|2026-12-07-1|S000022000102263000001|Qx2v7m3Kp9ZcL0aWnT4yHf"


def _per_call_us(function, n: int) -> float:
    """Median of five runs of n calls, in microseconds per call."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            function()
        runs.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()

    ed = Ed25519PrivateKey.generate()
    ed_sig = ed.sign(MESSAGE)
    ed_pub = ed.public_key()

    key = sm2.load_private_key(sm2.generate_private_key_pem())
    sm2_sig = sm2.sign(key, MESSAGE)
    public = key.public_key()

    x, y = sm2.public_point(public)
    pure = gmssl_sm2.CryptSM2(
        public_key=(x + y).hex(), private_key=key.private_numbers().private_value.to_bytes(32).hex()
    )
    pure_sig = pure.sign_with_sm3(MESSAGE)
    slow_n = max(1, args.n // 100)

    rows = [
        ("Ed25519 sign (cryptography)", _per_call_us(lambda: ed.sign(MESSAGE), args.n)),
        ("Ed25519 verify", _per_call_us(lambda: ed_pub.verify(ed_sig, MESSAGE), args.n)),
        ("SM2/SM3 sign (tongsuopy, Tongsuo)", _per_call_us(lambda: sm2.sign(key, MESSAGE), args.n)),
        ("SM2/SM3 verify (tongsuopy)", _per_call_us(lambda: sm2.verify(public, sm2_sig, MESSAGE), args.n)),
        ("SM2/SM3 sign (gmssl, pure Python)", _per_call_us(lambda: pure.sign_with_sm3(MESSAGE), slow_n)),
        ("SM2/SM3 verify (gmssl)", _per_call_us(lambda: pure.verify_with_sm3(pure_sig, MESSAGE), slow_n)),
    ]
    width = max(len(label) for label, _ in rows)
    print(f"{'operation'.ljust(width)}  µs per call (median of 5 runs)")
    for label, value in rows:
        print(f"{label.ljust(width)}  {value:10.1f}")


if __name__ == "__main__":
    main()
