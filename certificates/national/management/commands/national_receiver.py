from pathlib import Path

from django.core.management.base import BaseCommand

from certificates.national.receiver import ReceiverServer, ReferenceDatabase


class Command(BaseCommand):
    help = "运行本地参考接收端(模拟省/国家数据库,开发、演示和测试用;生产环境对接真实数据库)"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--token", default="", help="要求的 Bearer 令牌(与 NATIONAL_REPORT_TOKEN 相同)")
        parser.add_argument("--store", default="var/national-receiver.json", help="接收记录保存位置")

    def handle(self, *args, host: str, port: int, token: str, store: str, **options) -> None:
        path = Path(store)
        path.parent.mkdir(parents=True, exist_ok=True)
        server = ReceiverServer((host, port), ReferenceDatabase(path), token)
        self.stdout.write(f"reference receiver on {server.url} (set NATIONAL_REPORT_URL to this); Ctrl-C stops it")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
