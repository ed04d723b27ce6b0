"""``rencai export``: a filtered list written to .xlsx or CSV from the command line, audited.

    rencai export --user yanhu --columns name,gender,region,mobile --filter kind=native --q 张 人才.xlsx

With ``--user`` the export is that account's: its data scope, its masking, and ``--full`` only
for a role that may see full personal values. Without ``--user`` it is the installation's
operator's (who holds the database and its key anyway): every record, masked unless ``--full``.
Either way one audit entry records it. Filters are the list page's (``--filter region=<id>`` …);
a filter or column that does not exist is refused with the list of those that do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from rencai.core import audit
from rencai.core.models import User
from rencai.imports import exporting


class Command(BaseCommand):
    help = "把筛选后的人才列表导出为 Excel（.xlsx）或 CSV 文件，并记入审计日志。"

    def add_arguments(self, parser):
        parser.add_argument("output", metavar="OUTPUT", help="输出文件（.xlsx 或 .csv）")
        parser.add_argument("--user", help="以该账号的数据范围和权限导出（默认：系统运维人员，全部数据）")
        parser.add_argument("--format", choices=sorted(exporting.FORMATS), help="默认按输出文件的扩展名")
        parser.add_argument("--encoding", choices=sorted(exporting.ENCODINGS), default="utf-8", help="CSV 的编码")
        parser.add_argument("--columns", help="逗号分隔的列名（默认：该账号列表页显示的列；无账号时全部列）")
        parser.add_argument("--filter", action="append", default=[], metavar="KEY=VALUE",
                            help="列表页的筛选条件，可重复，如 --filter kind=native --filter region=12")
        parser.add_argument("--q", default="", help="搜索词（与列表页的搜索相同）")
        parser.add_argument("--sort", default="", help="排序列，如 name 或 -updated_at")
        parser.add_argument("--full", action="store_true", help="导出完整的身份证号、手机号（须角色允许，记入审计）")
        parser.add_argument("--list-columns", action="store_true", help="列出可导出的列后退出")

    def handle(self, *args, **options):
        source = exporting.get_source("talents")
        if options["list_columns"]:
            for name, column in source.columns().items():
                self.stdout.write(f"{name}\t{column.label}")
            return
        output = Path(options["output"])
        fmt = options["format"] or output.suffix.lower().lstrip(".")
        if fmt not in exporting.FORMATS:
            raise CommandError("无法从文件名判断格式，请用 --format xlsx 或 --format csv。")
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"没有启用的账号“{options['user']}”。")
        pairs = []
        for item in options["filter"]:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandError(f"筛选条件应写成 KEY=VALUE：{item!r}")
            pairs.append((key.strip(), value.strip()))
        if options["q"]:
            pairs.append(("q", options["q"]))
        if options["sort"]:
            pairs.append(("sort", options["sort"]))
        columns = [c.strip() for c in (options["columns"] or "").split(",") if c.strip()]
        spec = exporting.ExportSpec(source="talents", query=urlencode(pairs), columns=columns, format=fmt,
                                    encoding=options["encoding"], full_personal=options["full"],
                                    confirmed=options["full"])
        try:
            with audit.acting(user):
                prepared = exporting.prepare_export(spec, user)
                partial = output.with_name(output.name + ".part")
                try:
                    rows = exporting.run_export(prepared, partial, actor=user,
                                                actor_name=None if user else audit.command_line_actor(), via="cli")
                except BaseException:
                    exporting.remove_file(partial)
                    raise
                partial.replace(output)
        except PermissionDenied as exc:
            raise CommandError(str(exc) or f"账号“{user}”没有查看人才的权限。") from exc
        except exporting.ExportError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        note = "，含完整个人信息" if prepared.reveals_personal else ""
        sys.stderr.write(f"已导出 {rows} 行到 {output}{note}（已记入审计日志）\n")
