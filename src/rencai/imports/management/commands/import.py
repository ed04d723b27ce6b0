"""``rencai import FILE``: import talents from an .xlsx, .xls or .csv file.

::

    rencai import 盐湖区.xlsx --user admin [--mapping NAME] [--mode skip|update|fill] [--valid-only]
                  [--set FIELD=VALUE …] [--sheet S] [--header-row N] [--dry-run]

The same engine as the web wizard (``imports.pipeline``). Without ``--mapping`` the columns are
mapped from their headers when that is unambiguous (every header that names a field names a
different one); ``--header-row`` is counted from 1 as Excel shows it, and guessed when left out.
When nothing is imported the command lists the rows and reasons and exits with status 1.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from rencai.core import audit
from rencai.core.models import User
from rencai.imports import mapping as mapping_module
from rencai.imports.mapping import FIELDS
from rencai.imports.models import ImportMapping
from rencai.imports.pipeline import ImportOptions, ImportRefused, preview, run_import
from rencai.imports.readers import ImportFileError, header_texts, store_upload

SHOWN_ERRORS = 50


class Command(BaseCommand):
    help = "Import talents from an Excel (.xlsx/.xls) or CSV file."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", default="admin", help="the account the import is made as (default admin)")
        parser.add_argument("--mapping", default="", help="a saved column mapping (导入模板) by name")
        parser.add_argument("--mode", choices=["skip", "update", "fill"], default="skip",
                            help="existing people: skip (default), update, or fill blanks only")
        parser.add_argument("--valid-only", action="store_true", help="import the valid rows, report the others")
        parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                            help="one value for the whole file, e.g. --set region=盐湖区 --set kind=本土人才")
        parser.add_argument("--sheet", default="0", help="sheet name or number from 0 (default the first)")
        parser.add_argument("--header-row", type=int, default=None, help="row of the headers, from 1 (default guessed)")
        parser.add_argument("--dry-run", action="store_true", help="check every row and report, write nothing")

    def handle(self, *args, **options):
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist as exc:
            raise CommandError(f"no such user: {options['user']}") from exc
        fixed = {}
        for item in options["set"]:
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or name not in FIELDS:
                raise CommandError(f"--set {item!r}: expected FIELD=VALUE with FIELD one of {', '.join(FIELDS)}")
            fixed[name] = value.strip()
        sheet = options["sheet"]
        sheet = int(sheet) if sheet.isdigit() else sheet
        with audit.acting(user):
            try:
                upload = store_upload(options["file"], user)
                workbook = upload.open()
                saved = None
                if options["mapping"]:
                    saved = ImportMapping.objects.filter(name=options["mapping"]).first()
                    if saved is None:
                        raise CommandError(f"no such mapping: {options['mapping']}")
                if options["header_row"] is not None:
                    header_row = options["header_row"] - 1
                elif saved is not None:
                    header_row = saved.header_row
                else:
                    header_row = workbook.guess_header_row(sheet)
                rows = workbook.rows(sheet, limit=header_row + 1)
                if len(rows) <= header_row:
                    raise CommandError(f"第 {header_row + 1} 行不存在：工作表是空的")
                headers = header_texts(rows[header_row])
                columns = self.columns(headers, saved)
                if saved is not None:
                    fixed = {**(saved.fixed or {}), **fixed}
                import_options = ImportOptions(sheet=sheet, header_row=header_row, columns=columns,
                                               mode=options["mode"], valid_only=options["valid_only"], fixed=fixed)
                mapped = ", ".join(f"{headers[i]}→{FIELDS[f].label}" for i, f in sorted(columns.items()))
                self.stderr.write(f"表头在第 {header_row + 1} 行；列对应：{mapped}")
                if options["dry_run"]:
                    result = preview(upload, import_options, user, limit=0)
                    self.stdout.write(" ".join(f"{k}={v}" for k, v in result.counts.items()))
                    self.list_errors(result.errors)
                    if result.counts["error"]:
                        raise SystemExit(1)
                    return
                batch = run_import(upload, import_options, user)
            except ImportFileError as exc:
                raise CommandError(exc.message) from exc
            except ImportRefused as exc:
                self.stderr.write(exc.message)
                self.list_errors(exc.batch.errors)
                raise SystemExit(1) from exc
        self.stdout.write(batch.message)
        if batch.errors:
            self.list_errors(batch.errors)
        if not batch.counts["created"] and not batch.counts["updated"] and batch.counts["errors"]:
            raise SystemExit(1)

    def columns(self, headers: list[str], saved) -> dict[int, str]:
        if saved is not None:
            columns = mapping_module.columns_from_mapping(saved, headers)
            if not columns:
                raise CommandError(f"mapping {saved.name!r} names none of this sheet's headers")
            return columns
        clashes = mapping_module.ambiguous(headers)
        if clashes:
            text = "; ".join(f"{FIELDS[f].label}: " + ", ".join(headers[i] for i in cols) for f, cols in clashes.items())
            raise CommandError(f"列对应不明确（多列对应同一字段：{text}），请用 --mapping 指定已保存的导入模板")
        columns = {i: f for i, f in enumerate(mapping_module.suggest(headers)) if f}
        if "name" not in columns.values():
            raise CommandError("找不到“姓名”列：请用 --header-row 指定表头所在行，或用 --mapping 指定导入模板")
        return columns

    def list_errors(self, errors: list) -> None:
        for number, messages, _columns in errors[:SHOWN_ERRORS]:
            text = "；".join(f"{column}：{message}" for column, message in messages.items())
            self.stderr.write(f"第 {number} 行：{text}")
        if len(errors) > SHOWN_ERRORS:
            self.stderr.write(f"……另有 {len(errors) - SHOWN_ERRORS} 行")
