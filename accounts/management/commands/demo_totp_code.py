import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = (
        "Print the current second-factor code of a demo staff account (the demo's authenticator; never in production)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        if settings.PRODUCTION:
            raise CommandError("demo_totp_code 只用于开发和演示,生产环境(DJANGO_ENV=production)拒绝运行。")
        # Only the authenticators seed_demo made (name "demo"): a real account's secret is nobody's to read.
        device = TOTPDevice.objects.filter(user__username=username, name="demo", confirmed=True).first()
        if device is None:
            raise CommandError(f"{username} 不是演示管理岗位账号(或还没有运行 seed_demo)。")
        now = time.time()
        t = int(now - device.t0) // device.step + device.drift
        left = device.step - int(now - device.t0) % device.step
        if t <= device.last_t:  # this step's code was used already; the next one is accepted too (±1 step)
            t, left = t + 1, left + device.step
        if t <= device.last_t:
            raise CommandError(f"{username} 的验证码刚刚用过,请 {left - device.step} 秒后再运行。")
        self.stdout.write(f"{hotp(device.bin_key, t, digits=device.digits):0{device.digits}d}")
        self.stderr.write(f"{username}: 有效约 {left} 秒;每个验证码只能用一次。")
