import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_chinese_and_shanghai():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_I18N and settings.USE_TZ


def test_production_settings_pass_check_deploy(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # set by browser tests
        "DJANGO_ENV": "production",
        "SECRET_KEY": "p" * 10 + "Zx8#kQ2$mN7!vB4&wR9*tY6^uI3@oP1%aS5(dF0)gH-jK=lL+" + "q" * 10,
        "ALLOWED_HOSTS": "skills.example.gov.cn",
        "SITE_URL": "https://skills.example.gov.cn",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DJANGO_ENV": "production", "ALLOWED_HOSTS": "x", "VAR_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_development_secrets_are_generated_outside_the_repository():
    assert Path(settings.VAR_DIR, "secret_key").exists() or os.environ.get("SECRET_KEY")
    tracked = subprocess.run(["git", "ls-files", "var"], cwd=ROOT, capture_output=True, text=True).stdout
    assert tracked == ""


def _production_env(tmp_path, **extra) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if k not in ("DJANGO_ALLOW_ASYNC_UNSAFE", "DEV_IDP_ENABLED")},
        "DJANGO_ENV": "production",
        "SECRET_KEY": "p" * 10 + "Zx8#kQ2$mN7!vB4&wR9*tY6^uI3@oP1%aS5(dF0)gH-jK=lL+" + "q" * 10,
        "ALLOWED_HOSTS": "skills.example.gov.cn",
        "SITE_URL": "https://skills.example.gov.cn",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "db.sqlite3"),
        **extra,
    }


def _run(env: dict, code: str) -> subprocess.CompletedProcess:
    script = "import django; django.setup(); " + code
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_with_the_local_identity_provider(tmp_path):
    result = _run(_production_env(tmp_path, DEV_IDP_ENABLED="true"), "print('started')")
    assert result.returncode != 0 and "DEV_IDP_ENABLED" in result.stderr and "started" not in result.stdout


def test_production_neither_installs_nor_mounts_the_local_identity_provider(tmp_path):
    code = (
        "from django.apps import apps; from django.urls import resolve, Resolver404; "
        "from django.conf import settings; "
        "print('installed', apps.is_installed('devidp')); print('issuer', repr(settings.OIDC_ISSUER)); "
        'exec(\'try:\\n resolve("/dev-idp/jwks"); print("mounted")\\nexcept Resolver404:\\n print("not mounted")\')'
    )
    result = _run(_production_env(tmp_path), code)
    assert result.returncode == 0, result.stderr
    assert "installed False" in result.stdout and "not mounted" in result.stdout
    assert "issuer ''" in result.stdout  # no real-name sign-in until an operator configures a provider


def test_production_trusts_a_provider_only_over_https_and_with_a_client_secret(tmp_path):
    plain = _run(_production_env(tmp_path, OIDC_ISSUER="http://idp.example.gov.cn", OIDC_CLIENT_ID="c"), "")
    assert plain.returncode != 0 and "https" in plain.stderr
    no_secret = _run(_production_env(tmp_path, OIDC_ISSUER="https://idp.example.gov.cn", OIDC_CLIENT_ID="c"), "")
    assert no_secret.returncode != 0 and "OIDC_CLIENT_SECRET" in no_secret.stderr
    configured = _run(
        _production_env(
            tmp_path, OIDC_ISSUER="https://idp.example.gov.cn", OIDC_CLIENT_ID="c", OIDC_CLIENT_SECRET="s" * 32
        ),
        "from django.conf import settings; print(settings.OIDC_ISSUER)",
    )
    assert configured.returncode == 0 and "https://idp.example.gov.cn" in configured.stdout, configured.stderr


@pytest.mark.parametrize("value", ["prod", "Production", "staging", ""])
def test_an_unknown_environment_is_refused_at_start_up(tmp_path, value):
    """A typo must not quietly mean development (DEBUG on, generated secrets) on a live server."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"DJANGO_ENV": value, "VAR_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DJANGO_ENV must be one of development, production" in result.stderr
    assert not (tmp_path / "secret_key").exists()  # it stopped before generating anything
