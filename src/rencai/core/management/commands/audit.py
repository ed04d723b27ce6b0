"""``rencai audit verify`` checks the audit chain; ``rencai audit export`` writes part of it to CSV.

``verify`` prints OK and the number of entries, or the first broken entry and exits non-zero, so
a monitoring job can run it as is.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from rencai.core import audit
from rencai.core.models import AuditEntry
from rencai.core.services import auditlog


def moment(value: str) -> dt.datetime:
    """A date (the start of that day) or a date and time; local time unless an offset is given."""
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"不是有效的日期或时间：{value!r}（例如 2026-01-31 或 2026-01-31T08:00）")
        parsed = dt.datetime.combine(day, dt.time.min)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


class Command(BaseCommand):
    help = "审计日志：verify 校验哈希链是否完整；export 导出为 CSV 文件。"

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True, metavar="{verify,export}")
        commands.add_parser("verify", help="校验整条哈希链，报告第一条被改动或删除的记录。")
        export = commands.add_parser("export", help="把一段时间的审计日志导出为 CSV（UTF-8，含表头）。")
        export.add_argument("--since", required=True, help="起始日期或时间（含），如 2026-01-01")
        export.add_argument("--until", help="截止日期或时间（不含），默认到现在")
        export.add_argument("--output", required=True, help="输出的 CSV 文件路径")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "verify":
            return self.verify()
        return self.export(options["since"], options.get("until"), Path(options["output"]))

    def verify(self) -> None:
        result = audit.verify()
        if result.ok:
            self.stdout.write(f"OK：审计日志完整，共 {result.checked} 条。")
            return
        where = f"第 {result.broken_at} 号记录" if result.broken_at is not None else "链尾"
        raise CommandError(f"审计日志已被破坏：{where}，{result.reason}（此前 {result.checked} 条完好）。")

    def export(self, since: str, until: str | None, output: Path) -> None:
        queryset = AuditEntry.objects.filter(created_at__gte=moment(since))
        filters = {"since": since}
        if until:
            queryset = queryset.filter(created_at__lt=moment(until))
            filters["until"] = until
        queryset, count = auditlog.freeze(queryset)
        try:
            with output.open("w", encoding="utf-8-sig", newline="") as handle:
                auditlog.write_csv(auditlog.export_rows(queryset), handle)
        except OSError as exc:
            raise CommandError(f"无法写入 {output}：{exc.strerror}") from exc
        auditlog.record_export(count, filters, destination=f"文件 {output.name}", actor_name=audit.command_line_actor())
        self.stdout.write(f"已导出 {count} 条审计日志到 {output}。")
