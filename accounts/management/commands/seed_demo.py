import importlib

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.demo import DemoContext

# Each app that has demo data exposes `<app>.demo.seed(ctx)`; they run in this order, each building on the last.
DEMO_APPS = ["accounts", "accreditation", "assessments", "certificates", "subsidies", "oversight"]


class Command(BaseCommand):
    help = "Create (or complete) the demo data and one login per role. Safe to run again."

    def handle(self, *args, **options):
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
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。登录(用户名 / 密码 / 角色):"))
        width = max(len(u) for u, _, _ in ctx.logins)
        for username, password, label in ctx.logins:
            self.stdout.write(f"  {username.ljust(width)}  {password}  {label}")
        for label, url in ctx.urls:
            self.stdout.write(f"  {label}: {settings.SITE_URL}{url}")
