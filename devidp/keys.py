"""The provider's RS256 signing key, generated once into VAR_DIR/devidp/ (development only, never committed)."""

import os
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from joserfc.jwk import RSAKey

ALG = "RS256"
_PARAMETERS = {"use": "sig", "alg": ALG}


def _path() -> Path:
    return Path(settings.VAR_DIR) / "devidp" / "signing-key.pem"


def _create(path: Path) -> None:
    """Written under a temporary name and linked into place, so two processes starting at once agree on one key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_bytes(RSAKey.generate_key(2048, parameters=_PARAMETERS, private=True).as_pem(private=True))
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # fails if another process got there first; theirs wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


@lru_cache(maxsize=4)
def _load(path: str) -> RSAKey:
    key = RSAKey.import_key(Path(path).read_bytes(), parameters=_PARAMETERS)
    key.ensure_kid()
    return key


def signing_key() -> RSAKey:
    path = _path()
    if not path.exists():
        _create(path)
    return _load(str(path))


def jwks() -> dict:
    key = signing_key()
    return {"keys": [key.as_dict(private=False) | {"kid": key.kid}]}
