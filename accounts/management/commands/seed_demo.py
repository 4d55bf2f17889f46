import importlib

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DemoContext, second_factors

# Each app that has demo data exposes `<app>.demo.seed(ctx)`; they run in this order, each building on the last.
DEMO_APPS = ["occupations", "accounts", "accreditation", "assessments", "certificates", "subsidies", "oversight"]


class Command(BaseCommand):
    help = "Create (or complete) the demo data and one login per role. Safe to run again. Never in production."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            # The demo's accounts have a published password and published second-factor secrets.
            raise CommandError(
                "seed_demo 拒绝在生产环境运行(DJANGO_ENV=production):演示账号的密码和两步验证密钥是公开的。"
                " seed_demo refuses to run in production: the demo accounts' password and second-factor secrets"
                " are public."
            )
        ctx = DemoContext()
        # The local identity provider's citizens come last: they are people the other steps made.
        for app in DEMO_APPS + (["devidp"] if apps.is_installed("devidp") else []):
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed(ctx)
        totp = second_factors(ctx)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。登录(用户名 / 密码 / 角色):"))
        width = max(len(u) for u, _, _ in ctx.logins)
        for username, password, label in ctx.logins:
            self.stdout.write(f"  {username.ljust(width)}  {password}  {label}")
        self.stdout.write(
            self.style.SUCCESS("两步验证:以下管理岗位账号输入密码后还需 6 位动态验证码。")
            + "\n  把密钥加入手机验证器(Microsoft/Google Authenticator、FreeOTP 等,选“手动输入密钥”或扫描 otpauth 链接"
            "生成的二维码),或运行 `python manage.py demo_totp_code <用户名>` 查看当前验证码(每个验证码只能用一次):"
        )
        for username, uri, secret in totp:
            self.stdout.write(f"  {username.ljust(width)}  密钥 {secret}")
            self.stdout.write(f"  {''.ljust(width)}  {uri}")
        for label, url in ctx.urls:
            self.stdout.write(f"  {label}: {settings.SITE_URL}{url}")
