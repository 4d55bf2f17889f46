"""One full credential status list: what building it costs (the query, the bitstring, GZIP, the signature) and what
serving it costs (a fresh build, a cached 200, a 304 for a verifier that holds it), in time and bytes.

    .venv/bin/python bench/bench_status_list.py                          # 2**22 bits; 30 % and 0.35 % of them set
    .venv/bin/python bench/bench_status_list.py --capacity 131072 --share 0.3 --share 0.01

A list's capacity is what it is published with (certificates/status_index.py fills it to half); "30 % set" is a
stress case (about 60 % of a full list's certificates revoked or suspended: the bits hardly compress), 0.35 % is
what bench/load_scale.py loads (0.5 % revoked and 0.2 % suspended, of a list half full). The bits are random
positions handed to the endpoint in place of the database's answer, so the list's size is the measured one at
any database size; the query is measured apart, on the database bench/load_scale.py loaded (BENCH_DATABASE_URL,
default bench_scale), if it has loaded certificates: their list, with the share of its certificates flagged
inside a transaction that is rolled back.

Serving goes through the platform's URL and view with Django's test client (in process, no network): what a web
node spends per request, not what a network adds.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def build_and_serve(capacity: int, share: float, repeat: int) -> None:
    from django.core.cache import cache
    from django.test import Client

    from certificates import credentials, signing

    rng = random.Random(7)
    indices = sorted(rng.sample(range(capacity), int(capacity * share)))
    length = max(capacity, credentials.STATUS_LIST_BLOCK_BITS)
    started = time.perf_counter()
    encoded = credentials.encode_status_list(indices, length)
    encode = time.perf_counter() - started
    claims = {"credentialSubject": {"encodedList": encoded}, "iss": "bench"}
    started = time.perf_counter()
    token = signing.jws_sign(claims, typ=credentials.VC_JWT_TYPE)
    sign = time.perf_counter() - started
    print(
        f"{capacity:,} bits, {len(indices):,} set ({share:.2%}): bitstring {length // 8:,} bytes; "
        f"encodedList {len(encoded):,} bytes (GZIP + base64url) in {_ms(encode)}; signed in {_ms(sign)}, "
        f"VC-JWT {len(token):,} bytes"
    )

    client = Client()
    url = "/api/v1/credentials/status/revocation"
    with mock.patch.object(credentials, "status_list_bits", return_value=(indices, length)):

        def fresh():
            cache.clear()
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response

        body = fresh()
        built = _median(fresh, max(3, repeat // 10))
        cached = _median(lambda: client.get(url), repeat)
        etag = client.get(url)["ETag"]  # the cached list's (each build is signed anew, with its own iat)
        not_modified = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert not_modified.status_code == 304
        revalidated = _median(lambda: client.get(url, HTTP_IF_NONE_MATCH=etag), repeat)
    print(
        f"  GET, list built (cache empty): {_ms(built)}, {len(body.content):,} bytes; "
        f"GET from the cache: {_ms(cached)}; GET with If-None-Match (304): {_ms(revalidated)}, 0 bytes of body "
        f"(medians)"
    )


def query(share: float) -> None:
    """status_list_bits on the loaded database's first bench list, with `share` of its certificates flagged."""
    from django.db import connection, transaction

    from bench.load_scale import BENCH_FIRST_LIST
    from certificates import credentials
    from certificates.models import Certificate

    in_list = Certificate.objects.filter(status_list=BENCH_FIRST_LIST)
    total = in_list.count()
    if not total:
        print("query: no loaded certificates (bench/load_scale.py) in this database; not measured")
        return
    with transaction.atomic():
        if share:
            step = max(1, round(1 / share))
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE certificates_certificate SET status = 'revoked' WHERE status_list = %s AND id %% %s = 0",
                    [BENCH_FIRST_LIST, step],
                )
        flagged = len(credentials.status_list_bits("revocation", number=BENCH_FIRST_LIST)[0])
        took = _median(lambda: credentials.status_list_bits("revocation", number=BENCH_FIRST_LIST), 3)
        transaction.set_rollback(True)
    print(
        f"query: list {BENCH_FIRST_LIST} ({total:,} certificates), {flagged:,} revoked: status_list_bits in "
        f"{_ms(took)} ({took / max(flagged, 1) * 1e6:.2f} µs per set bit)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--capacity", type=int, default=2**22)
    parser.add_argument("--share", type=float, action="append", help="share of bits set (repeatable)")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default=None, help="default: BENCH_DATABASE_URL, else bench_scale")
    args = parser.parse_args()
    os.environ.setdefault("SITE_URL", "http://127.0.0.1:8000")
    from bench.load_scale import setup_django

    setup_django(args.database_url or os.environ.get("BENCH_DATABASE_URL"))
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    call_command("migrate", verbosity=0)
    setup_test_environment()  # the test client's host is allowed
    for share in args.share or [0.30, 0.0035]:
        build_and_serve(args.capacity, share, args.repeat)
    for share in args.share or [0.30, 0.0035]:
        query(share)


if __name__ == "__main__":
    main()
