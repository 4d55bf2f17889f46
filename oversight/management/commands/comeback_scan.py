"""Scan the platform for disguised comebacks of cancelled qualifications (notice section 一)."""

from django.core.management.base import BaseCommand, CommandError

from accounts.actors import Actor
from occupations.models import Region
from oversight.comebacks import comeback_scan


class Command(BaseCommand):
    help = "排查已取消职业资格的变相恢复:备案范围、认定计划、机构名称、备案材料标题与说明"

    def add_arguments(self, parser):
        parser.add_argument("--region", default="", help="行政区划代码;不填则全平台")

    def handle(self, *args, region: str = "", **options):
        if region and not Region.objects.filter(code=region).exists():
            raise CommandError(f"行政区划代码不存在:{region}")
        report = comeback_scan(actor=Actor.platform(), region_code=region)
        self.stdout.write(
            "已取消事项 {qualifications} 项,匹配 {matches} 处:新发现 {raised},重新出现 {reopened},"
            "更新 {updated},不再成立 {cleared}".format(**report.as_dict())
        )
