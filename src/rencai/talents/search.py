"""Search of the registry (人才检索): one box that finds a person by name, pinyin, initials,
work unit, research-field words, or exactly by ID-card or mobile number.

Why a term index and not LIKE or trigrams: a ``LIKE '%…%'`` count reads every row (about a
second at a million talents), and trigram indexes (SQLite FTS5, pg_trgm) see nothing in one-
and two-character queries, while half of all Chinese names have two characters. So every
talent gets a handful of short terms in ``TalentSearchTerm`` — the name, its pinyin and
initials, the given name, the words (jieba) of the work unit, research fields, skills, major,
school and honours, and the tags — and each query token is a *prefix* range on ``term``::

    term >= 'zw' AND term < 'zw' || U+10FFFF

which a B-tree answers in a few index pages on SQLite and PostgreSQL alike. Both databases
compare ``term`` by code point (SQLite's BINARY collation; on PostgreSQL the column has the
"C" collation, see migration 0003), so the range is exactly "starts with".

ID-card and mobile numbers are never written into the term index (they are encrypted at rest);
a query that is a valid number is looked up through the keyed hash instead.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    Expression,
    F,
    IntegerField,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, In
from django.db.models.query import ModelIterable

from rencai.core.fields import protected_match
from rencai.core.loading import no_gc, sqlite_cache, sqlite_insert
from rencai.core.validators import validate_id_card, validate_mobile
from rencai.talents.models import Talent, TalentSearchTerm, TermKind

TERM_MAX_LENGTH = 64
# The greatest code point: ``prefix + TOP`` sorts after every term that starts with ``prefix``.
TOP = "\U0010ffff"
# How many talents a query may intersect; more tokens than this are ignored (a pasted paragraph).
MAX_TOKENS = 6
# The SQLite page cache while index_bulk writes (KiB).
SQLITE_BULK_CACHE_KIB = 256 * 1024

# Surnames whose reading differs from the character's everyday reading (单 is shan as a
# surname, not dan), and the compound surnames, which are read and split as one unit.
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "盖": "ge", "缪": "miao", "翟": "zhai", "乐": "yue", "覃": "qin", "种": "chong", "秘": "bi",
    "繁": "po", "黑": "he", "召": "shao", "员": "yun", "祭": "zhai", "句": "gou", "能": "nai",
    "折": "she", "隗": "wei", "冼": "xian", "谌": "chen", "过": "guo", "蔚": "yu", "尉": "wei",
    "褚": "chu", "牟": "mou", "卜": "bu", "便": "pian", "相": "xiang", "重": "chong", "长": "chang",
    "朝": "chao", "都": "du", "薄": "bo", "叶": "ye", "车": "che", "曲": "qu", "乜": "nie",
    "粘": "nian", "柏": "bai", "燕": "yan", "藏": "zang", "石": "shi", "沈": "shen", "任": "ren",
    "宁": "ning", "华": "hua", "纪": "ji", "盛": "sheng", "臧": "zang", "殷": "yin", "阚": "kan",
    "郇": "huan", "眭": "sui", "哈": "ha", "洗": "xian", "万": "wan", "莘": "shen", "费": "fei",
    "贾": "jia", "颉": "xie", "占": "zhan", "角": "jue", "阿": "a", "佴": "nai", "戌": "xu",
}
COMPOUND_SURNAMES = {
    "欧阳": "ou yang", "司马": "si ma", "诸葛": "zhu ge", "上官": "shang guan", "东方": "dong fang",
    "皇甫": "huang fu", "令狐": "ling hu", "尉迟": "yu chi", "长孙": "zhang sun", "万俟": "mo qi",
    "单于": "chan yu", "宇文": "yu wen", "慕容": "mu rong", "公孙": "gong sun", "司徒": "si tu",
    "司空": "si kong", "夏侯": "xia hou", "西门": "xi men", "独孤": "du gu", "南宫": "nan gong",
    "轩辕": "xuan yuan", "端木": "duan mu", "澹台": "tan tai", "呼延": "hu yan", "赫连": "he lian",
    "鲜于": "xian yu", "申屠": "shen tu", "钟离": "zhong li", "太史": "tai shi", "拓跋": "tuo ba",
    "完颜": "wan yan", "闻人": "wen ren", "百里": "bai li", "东郭": "dong guo", "公冶": "gong ye",
    "濮阳": "pu yang", "淳于": "chun yu", "仲孙": "zhong sun", "亓官": "qi guan", "第五": "di wu",
}

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_HAN_NAME = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]{2,4}")
_NAME_SEPARATORS = re.compile(r"[\s·•・.\-]+")
# Where a free text splits into phrases: punctuation, both widths, and whitespace.
_PHRASE_SEPARATORS = re.compile(r"[\s,，;；、/|｜。.:：!！?？()（）\[\]【】《》<>\"“”'‘’]+")
# Words that carry no meaning alone; they are not worth an index row.
_STOP_WORDS = frozenset("与 和 及 以及 的 等 或 在 中 对 为 其 之 于 有限 有限公司 公司 股份".split())

# Free-text fields of a talent and the kind their words are indexed as.
TEXT_FIELDS = (
    ("work_unit", TermKind.UNIT),
    ("research_fields", TermKind.FIELD),
    ("skills", TermKind.FIELD),
    ("major", TermKind.FIELD),
    ("school", TermKind.OTHER),
    ("honours", TermKind.OTHER),
)


def normalize(text: str) -> str:
    """Full-width to half-width, lower case, trimmed: how terms are stored and queries read."""
    text = unicodedata.normalize("NFKC", text or "").lower().strip()
    return text.replace(TOP, "")


# --- segmentation and pinyin, loaded once and only when first needed ----------------------------
_lock = threading.Lock()
_tokenizer = None


def _segmenter():
    """jieba's tokenizer, quiet and with its dictionary cache under var/ (not in /tmp)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                cache_dir = settings.VAR_DIR / "cache"
                cache_dir.mkdir(parents=True, exist_ok=True)
                tokenizer.tmp_dir = str(cache_dir)
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


class _Cache(dict):
    """A bounded memo: names, units and fields repeat a lot across a registry."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def remember(self, key, value):
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


_name_cache = _Cache(200_000)
_text_cache = _Cache(200_000)


def _split_surname(name: str) -> tuple[str, str]:
    if name[:2] in COMPOUND_SURNAMES and len(name) > 2:
        return name[:2], name[2:]
    return name[:1], name[1:]


_pinyin_cache = _Cache(200_000)


def _pinyin(text: str) -> list[str]:
    """The syllables of ``text`` (pypinyin reads words in context: 长大 zhang, 长江 chang);
    memoised, because given names repeat far more than whole names."""
    cached = _pinyin_cache.get(text)
    if cached is not None:
        return cached
    from pypinyin import Style, lazy_pinyin

    return _pinyin_cache.remember(text, lazy_pinyin(text, style=Style.NORMAL, errors="default"))


def name_terms(name: str) -> tuple[tuple[str, int], ...]:
    """The terms of a person's name: the name, its parts, the given name, pinyin and initials.

    The surname is read as a surname (单 shan, 曾 zeng, 欧阳 ouyang); the given name through
    pypinyin, which reads words in context.
    """
    cached = _name_cache.get(name)
    if cached is not None:
        return cached
    text = normalize(name)
    terms: list[tuple[str, int]] = []
    if _HAN_NAME.fullmatch(text):
        # The common case, kept quick for bulk indexing: a name of two to four hanzi.
        surname, given = _split_surname(text)
        reading = COMPOUND_SURNAMES.get(surname) or SURNAME_READINGS.get(surname)
        syllables = (reading.split() if reading else _pinyin(surname)) + _pinyin(given)
        if not all(s.isascii() and s.isalpha() for s in syllables):  # a character pypinyin does not know
            syllables = [s for s in syllables if s.isascii() and s.isalpha()]
        terms = [(text, TermKind.NAME), (given, TermKind.NAME)]
        if syllables:
            terms.append(("".join(syllables), TermKind.PINYIN))
            terms.append(("".join(s[0] for s in syllables), TermKind.INITIALS))
    elif text:
        terms.append((text, TermKind.NAME))
        parts = [p for p in _NAME_SEPARATORS.split(text) if p]
        if len(parts) > 1:
            terms += [(part, TermKind.NAME) for part in parts]
        if _HAN.search(text):
            syllables = []
            for part in parts:
                syllables += _pinyin(part) if _HAN.search(part) else [part]
            syllables = [s for s in (re.sub(r"[^0-9a-z]", "", s) for s in syllables) if s]
            if syllables:
                terms.append(("".join(syllables), TermKind.PINYIN))
                terms.append(("".join(s[0] for s in syllables), TermKind.INITIALS))
    return _name_cache.remember(name, tuple(terms))


def text_terms(text: str) -> tuple[str, ...]:
    """The terms of a free text: each phrase from every place a word starts in it.

    jieba (search mode) says where words start; the phrase from each such place on is a term, so
    a query finds a phrase by any run of words in it: "人工智能与机器学习" gives
    人工智能与机器学习, 智能与机器学习, 机器学习 and 学习, which 人工智能, 智能, 机器学习 and 学习
    all start. Places where only a stop word or a single character starts (与, 有限公司) are
    skipped; a one-character query still finds every term that starts with it.
    """
    cached = _text_cache.get(text)
    if cached is not None:
        return cached
    terms: set[str] = set()
    for phrase in _PHRASE_SEPARATORS.split(normalize(text)):
        if not phrase:
            continue
        terms.add(phrase[:TERM_MAX_LENGTH])
        if len(phrase) > 2:
            for word, start, _end in _segmenter().tokenize(phrase, mode="search"):
                if start and len(word) > 1 and word not in _STOP_WORDS:
                    terms.add(phrase[start : start + TERM_MAX_LENGTH])
    return _text_cache.remember(text, tuple(sorted(terms)))


def terms_for(talent, tags: Iterable[str] | None = None) -> list[tuple[str, int]]:
    """The (term, kind) pairs of one talent, each term once with its best kind.

    ``tags`` are the talent's tag names; when not given they are read from the database (for a
    saved talent).
    """
    best: dict[str, int] = dict(reversed(name_terms(talent.name or "")))
    for field, kind in TEXT_FIELDS:
        value = getattr(talent, field, "")
        if value:
            for word in text_terms(value):
                if best.get(word, 99) > kind:
                    best[word] = kind
    if tags is None:
        tags = talent.tags.values_list("name", flat=True) if talent.pk else ()
    for tag in tags:
        tag = normalize(tag)[:TERM_MAX_LENGTH]
        if tag and best.get(tag, 99) > TermKind.OTHER:
            best[tag] = TermKind.OTHER
    return list(best.items())


# --- writing the index -------------------------------------------------------------------------
def _delete_terms(using: str, talent_ids: list[int]) -> None:
    # A plain DELETE: the ORM's delete() would load every row first to send delete signals,
    # which nothing listens to for search terms.
    TalentSearchTerm.objects.using(using).filter(talent_id__in=talent_ids)._raw_delete(using)


def index_talent(talent) -> None:
    """Bring the search terms of one talent up to date (its old terms are replaced)."""
    using = router.db_for_write(TalentSearchTerm)
    region = talent.region_id
    rows = [TalentSearchTerm(term=term, talent_id=talent.pk, kind=kind, region_id=region)
            for term, kind in terms_for(talent)]
    with transaction.atomic(using=using):
        _delete_terms(using, [talent.pk])
        TalentSearchTerm.objects.using(using).bulk_create(rows)


def _tags_of(using: str, talent_ids: list[int]) -> dict[int, list[str]]:
    # A range rather than IN (…ten thousand ids…): one index range, and no parameter limit.
    wanted = set(talent_ids)
    tags: dict[int, list[str]] = {}
    through = Talent.tags.through.objects.using(using).filter(talent_id__gte=min(wanted), talent_id__lte=max(wanted))
    for talent_id, name in through.values_list("talent_id", "tag__name"):
        if talent_id in wanted:
            tags.setdefault(talent_id, []).append(name)
    return tags


def _regions_of(using: str, talent_ids: list[int]) -> dict[int, int]:
    """The region of each of these (saved) talents, read in one range like ``_tags_of``."""
    wanted = set(talent_ids)
    found = Talent.objects.using(using).filter(pk__gte=min(wanted), pk__lte=max(wanted)).values_list("pk", "region_id")
    return {pk: region for pk, region in found.iterator(chunk_size=10_000) if pk in wanted}


_COPY_SQL = "COPY talents_talentsearchterm (term, talent_id, kind, region_id) FROM STDIN"


def _insert(connection, rows: list[tuple[str, int, int, int]]) -> None:
    if connection.vendor == "postgresql":
        # COPY is several times faster than batched INSERTs on PostgreSQL.
        with connection.cursor() as cursor, cursor.copy(_COPY_SQL) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        # Through the driver, many rows per statement: Django's cursor wrapper would rewrite every
        # row's parameters in Python.
        sqlite_insert(connection, TalentSearchTerm._meta.db_table, ["term", "talent_id", "kind", "region_id"], rows)


def prepare_segmenter() -> None:
    """Load jieba's dictionary now (before a process forks to index in the child)."""
    _segmenter()


def write_terms(rows: list[tuple[str, int, int, int]]) -> None:
    """Insert terms already worked out (``terms_for``), as (term, talent id, kind, the talent's
    region id), for talents that have none yet (an import's new talents)."""
    if rows:
        _insert(connections[router.db_for_write(TalentSearchTerm)], rows)


def index_bulk(talents: Iterable, *, replace: bool = True, batch: int = 10_000) -> int:
    """Index many talents at once (demo data, imports, a rebuild); returns the rows written.

    Terms are computed in Python with the segmentation of repeated strings memoised, and written
    with the driver's bulk path (executemany on SQLite, COPY on PostgreSQL), ``batch`` talents
    per transaction. ``replace=False`` skips deleting old terms, for talents known to be new.
    """
    using = router.db_for_write(TalentSearchTerm)
    connection = connections[using]
    written = 0
    chunk: list = []

    def flush() -> None:
        nonlocal written
        ids = [talent.pk for talent in chunk]
        tags = _tags_of(using, ids)
        # The region as loaded, or read for the chunk at once when a caller left it deferred.
        regions = {} if all("region_id" in talent.__dict__ for talent in chunk) else _regions_of(using, ids)
        rows = []
        for talent in chunk:
            pk = talent.pk
            region = regions.get(pk) or talent.region_id
            rows += [(term, pk, kind, region) for term, kind in terms_for(talent, tags.get(pk, ()))]
        with transaction.atomic(using=using):
            if replace:
                _delete_terms(using, ids)
            _insert(connection, rows)
        written += len(rows)
        chunk.clear()

    with sqlite_cache(connection, SQLITE_BULK_CACHE_KIB), no_gc():
        for talent in talents:
            chunk.append(talent)
            if len(chunk) >= batch:
                flush()
        if chunk:
            flush()
    return written


@contextmanager
def deferred_indexes(using: str | None = None):
    """Write a large load without the term indexes, and build them once at the end.

    Inserting fifteen million terms into B-trees that already hold millions is random I/O
    all the way; building the indexes afterwards is one sort. On PostgreSQL the foreign key
    goes too (a trigger per row) and is validated again in one pass at the end. For benchmarks
    and full rebuilds, not everyday imports: search reads the whole table while the indexes are
    away. Inside a transaction it is all or nothing (DDL is transactional on both databases).
    """
    using = using or router.db_for_write(TalentSearchTerm)
    connection = connections[using]
    quote = connection.ops.quote_name
    table = TalentSearchTerm._meta.db_table
    editor = connection.schema_editor()
    indexes = TalentSearchTerm._meta.indexes
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        foreign_keys = []
        if postgres:
            constraints = connection.introspection.get_constraints(cursor, table)
            foreign_keys = [(name, c["columns"][0], *c["foreign_key"]) for name, c in constraints.items() if c["foreign_key"]]
        for name, *_rest in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for index in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {quote(index.name)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if postgres:
                # No index is built on a table with foreign-key checks still queued (Django's are
                # DEFERRABLE INITIALLY DEFERRED): run them now, then defer again.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for index in indexes:
                cursor.execute(str(index.create_sql(TalentSearchTerm, editor)))
            for name, column, target_table, target_column in foreign_keys:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} FOREIGN KEY ({quote(column)}) "
                    f"REFERENCES {quote(target_table)} ({quote(target_column)}) DEFERRABLE INITIALLY DEFERRED"
                )
            cursor.execute(f"ANALYZE {quote(table)}")


# --- querying ----------------------------------------------------------------------------------
def exact_number_match(query: str) -> Q | None:
    """A filter for a query that is a valid ID-card or mobile number (any spelling), else None."""
    for field, validate in (("id_card", validate_id_card), ("mobile", validate_mobile)):
        try:
            validate(query)
        except ValidationError:
            continue
        return protected_match(Talent, field, query)
    return None


def query_tokens(query: str) -> list[str]:
    """The normalised tokens of a query, at most MAX_TOKENS, each cut to the term length."""
    tokens = []
    for token in normalize(query).split():
        token = token[:TERM_MAX_LENGTH]
        if token and token not in tokens:
            tokens.append(token)
    return tokens[:MAX_TOKENS]


def _prefix(token: str) -> Q:
    return Q(term__gte=token, term__lt=token + TOP)


def _term_rank(token: str, term: str, kind: int) -> int:
    """Lower is better: twice the kind of term matched, plus one unless it is the whole term."""
    return kind * 2 + (term != token)


def _has_term(token: str, vendor: str, entries: int | None, regions: tuple[int, ...] | None = None):
    """The talents with a term starting with ``token``, in the form the database at hand runs best.

    PostgreSQL turns IN or EXISTS into a join and chooses; given IN, it can hash the range once,
    which keeps it fast even when it misjudges how many talents the rest of the query leaves.
    SQLite runs the form it is given. An IN list it gathers whole first, then reads in page
    order (the list is sorted): quick for a range of a few thousand entries whatever share of
    the talents they are (wangjun, 1,916 entries: under a millisecond). A correlated EXISTS it
    checks per talent with one seek on (talent, term, kind), walking the talents in page order
    and stopping at the page: quick when many talents match (王: 700 seeks for a page of 50),
    slow when few do (wangjun: 26,000 seeks, 40 ms). ``entries`` is the size of the range,
    counted up to SQLITE_IN_LIMIT + 1 (None on PostgreSQL), within ``regions`` when given.

    ``regions`` are regions the rest of the query already confines the talents to (scope, the
    region filter): the IN list is then read from those regions' stretch of the range alone.
    Narrowing by the terms' copy of the region can only leave talents out, never let one in.
    """
    terms = TalentSearchTerm.objects.filter(_prefix(token))
    if vendor == "postgresql" or (entries is not None and entries <= SQLITE_IN_LIMIT):
        if regions is not None:
            terms = terms.filter(region_id__in=regions)
        return Q(pk__in=terms.values("talent_id"))
    return Exists(terms.filter(talent_id=OuterRef("pk")))


def _region_conditions(queryset) -> tuple[tuple[int, ...] | None, bool]:
    """(regions, only): the regions the where clause confines the talents to, read from its
    literal ``region IN (…)`` and ``region = …`` conditions (scope from ``restrict``, the region
    filter), or None; and whether those are all it holds.

    Anything it cannot read (an OR, a subquery, a negation) is just another condition: the
    talents are then narrowed by what it read, never widened.
    """
    where = queryset.query.where
    if where.connector != "AND" or where.negated or not where.children:
        return None, False
    region_field = Talent._meta.get_field("region")
    regions: set[int] | None = None
    only = True
    for child in where.children:
        values = None
        if (isinstance(child, In | Exact) and isinstance(child.lhs, Col) and child.lhs.target is region_field
                and child.lhs.alias == queryset.query.base_table):
            rhs = child.rhs if isinstance(child, In) else [child.rhs]
            if isinstance(rhs, list | tuple | set | frozenset):
                values = {getattr(value, "pk", value) for value in rhs}
                if not all(isinstance(value, int) for value in values):
                    values = None
        if values is None:
            only = False
        else:
            regions = values if regions is None else regions & values
    if regions is None:
        return None, False
    return tuple(sorted(regions)), only


class SearchResults:
    """A searched queryset, with a count that knows how the search was done.

    Nothing but the search narrowing the talents (a city-level user, no filters): a ranked
    result counts the talents it ranked, and a broad one (one token) the distinct talents of the
    token's index range, read from the index alone and stopping at the cap.

    Nothing but regions besides (a county officer's scope, the region filter), a broad search of
    one token is counted the same way from those regions' stretch of the range in (region, term,
    talent): the terms carry their talent's region. 盐湖区's 人工智能 are 5,235 talents of the
    city's 36,669 (5,921 entries of 41,523): through their rows each of the city's had its
    talent's row read for the region, where the county's stretch holds only its own.

    With other filters the rows have to be looked at, and the count of a broad search is
    worked out apart from its page:

    - when the range holds more entries than the cap, the talents whose *name* also starts with
      the token are counted first: they are some of the rows (the search's own conditions still
      apply), and the (region, name, id) index holds them in a row, so when they alone reach the
      cap the count is settled. 盐湖区's 王 do after 10,000 entries of that index, where the
      range of 王 holds 74,000 entries of every county (SQLite, checking each name's own term:
      50 ms to 6 ms; PostgreSQL: 50 ms to 25 ms);
    - SQLite counts the range's talents by looking them up, not by walking every talent in
      scope as the page's EXISTS does (190 ms for a county of 145,000 talents), up to
      SQLITE_LOOKUP_LIMIT entries; the page's own conditions are swapped for IN lists, since
      SQLite would otherwise check both for every talent (a third more).

    A filter added after the search (``result.filter(…)``) is counted as Django counts it.
    """

    _search_where: int | None = None  # the size of the where clause right after the search
    _search_tokens: tuple[str, ...] = ()  # rarest first
    _search_entries: int | None = None  # the driver's range, counted up to SQLITE_IN_LIMIT + 1
    # How many conditions the search added at the end of the where clause (None: not known).
    _search_added: int | None = None
    _search_alone: bool = False  # nothing but the search narrows the talents
    _search_count: int | None = None  # ranked, and alone: how many talents were ranked
    # Regions that are all the rest of the where clause holds (scope, the region filter).
    _search_regions: tuple[int, ...] | None = None
    _search_ids_first: bool = False  # a page's ids are read first, then their rows (_fetch_all)

    def _clone(self):
        clone = super()._clone()
        clone.__dict__.update({name: value for name, value in self.__dict__.items() if name.startswith("_search_")})
        return clone

    def count(self):
        if (self._search_where is None or self._result_cache is not None or self.query.low_mark
                or self.query.is_empty() or len(self.query.where.children) != self._search_where):
            return super().count()
        cap = self.query.high_mark
        if self._search_count is not None:
            return self._search_count if cap is None else min(self._search_count, cap)
        if not self._search_tokens:  # ranked, in scope or filtered: an id list, quick to count
            return super().count()
        driver = self._search_tokens[0]
        terms = TalentSearchTerm.objects.using(self.db).filter(_prefix(driver))
        if self._search_alone:
            return self._count_from_index(terms, cap)
        if self._search_regions is not None and len(self._search_tokens) == 1:
            # Nothing but regions besides the search: their stretch of (region, term, talent).
            return self._count_from_index(terms.filter(region_id__in=self._search_regions), cap)
        sqlite = connections[self.db].vendor == "sqlite"
        if sqlite and self._search_entries is not None and self._search_entries <= SQLITE_IN_LIMIT:
            return super().count()  # already IN lists
        if cap is not None and terms[: cap + 1].count() > cap:
            counted = super(SearchResults, self._named(driver, sqlite)).count()
            if counted >= cap:
                return counted
        if sqlite and self._search_added is not None and terms[: SQLITE_LOOKUP_LIMIT + 1].count() <= SQLITE_LOOKUP_LIMIT:
            return super(SearchResults, self._narrowed(looked_up=True)).count()
        return super().count()

    def _fetch_all(self):
        """On PostgreSQL a page of a broad search reads its ids first, then their rows.

        PostgreSQL joins the range's talents to their rows before sorting them by id: the full
        row of each of 1,916 talents of wangjun for a page of 50 (15 ms). Sorting and cutting the
        ids first needs no row at all ((region, id) and the primary key hold them: 7 ms), and
        the page's rows are then read by id (under a millisecond). SQLite reads its IN list and
        its walk in page order and stops at the page by itself, except for an IN list within
        regions: (region, id) then serves the scope and the list, and SQLite sorts whole rows
        (2,082 of 盐湖区's wj: 16 ms), where sorting their ids takes one.
        """
        if (self._result_cache is not None or not self._search_tokens or self.query.high_mark is None
                or self._iterable_class is not ModelIterable or not self._search_ids_first):
            return super()._fetch_all()
        ids = list(self.values_list("pk", flat=True))
        rows = self._chain()
        rows.query.clear_limits()
        rows.query.clear_ordering(force=True)
        if self._search_added and len(rows.query.where.children) == self._search_where:
            # The rows by id, within scope and filters as read now; the search's own conditions
            # would make PostgreSQL hash the range again.
            where = rows.query.where
            del where.children[len(where.children) - self._search_added:]
        by_pk = {row.pk: row for row in rows.filter(pk__in=ids)}
        self._result_cache = [by_pk[pk] for pk in ids if pk in by_pk]
        self._prefetch_done = True

    def _named(self, token: str, sqlite: bool):
        """Some of this count's rows: those whose name starts with ``token``.

        SQLite checks them against their own name's term rather than the token's range: a seek
        on (term, kind, talent) for each, in the order of the names, so that neighbouring names
        share index pages, where the range's check seeks (talent, term) for talents in no order
        (10,000 names: 5 ms against 27). Either way each row still matches the search: a name
        starting with the token is a term starting with it.
        """
        named = Q(name__gte=token, name__lt=token + TOP)
        if not sqlite or self._search_added is None:
            return self._narrowed(named)
        queryset = self._chain()
        queryset.query.clear_limits()
        where = queryset.query.where
        del where.children[len(where.children) - self._search_added]  # the rarest token's, the first
        queryset = queryset.filter(named, _NameTerm(
            TalentSearchTerm.objects.filter(term=OuterRef("name"), kind=TermKind.NAME, talent_id=OuterRef("pk"))))
        queryset.query.set_limits(self.query.low_mark, self.query.high_mark)
        return queryset

    def _narrowed(self, condition: Q | None = None, *, looked_up: bool = False):
        """This count's queryset with ``condition`` added, or with the search's own conditions
        given as IN lists (``looked_up``); sliced as this one is."""
        queryset = self._chain()
        queryset.query.clear_limits()
        if looked_up:
            where = queryset.query.where
            where.children = where.children[: len(where.children) - self._search_added]
            for token in self._search_tokens:
                queryset = queryset.filter(pk__in=TalentSearchTerm.objects.filter(_prefix(token)).values("talent_id"))
        if condition is not None:
            queryset = queryset.filter(condition)
        queryset.query.set_limits(self.query.low_mark, self.query.high_mark)
        return queryset

    @staticmethod
    def _count_from_index(terms, cap):
        if cap is not None:
            # Most talents have one term in a range: the first 2 × cap entries usually hold the
            # cap's worth of talents, which settles a capped count without hashing the whole
            # range (PostgreSQL's DISTINCT reads all of it: 72,000 entries for 王).
            sample = terms.values("talent_id")[: 2 * cap].aggregate(
                entries=Count("talent_id"), talents=Count("talent_id", distinct=True))
            if sample["talents"] >= cap or sample["entries"] < 2 * cap:
                return min(sample["talents"], cap)
        distinct = terms.values("talent_id").distinct()
        return (distinct[:cap] if cap is not None else distinct).count()


class _NameTerm(Exists):
    """EXISTS the term that is the talent's name, read on SQLite through (term, kind, talent):
    its planner would take (talent, term, kind), which the names' order leaves unordered."""

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = self.as_sql(compiler, connection, **extra_context)
        table = re.escape(connection.ops.quote_name(TalentSearchTerm._meta.db_table))
        return re.sub(rf"(FROM {table} [A-Z]\d+) ", r'\1 INDEXED BY "talents_term_idx" ', sql, count=1), params


# Up to this many index entries in range, SQLite reads a broad search's page through an IN list
# of the range's talents; beyond, walking the talents in page order with EXISTS is quicker
# (see _has_term).
SQLITE_IN_LIMIT = 5_000
# Up to this many index entries in range, SQLite counts a filtered broad search by looking up
# the range's talents; beyond, walking the talents in scope is quicker (see SearchResults).
SQLITE_LOOKUP_LIMIT = 100_000


_search_classes: dict[type, type] = {}


def _as_search_results(searched, before, *, tokens=(), entries=None, alone=False, count=None, regions=None,
                       ids_first=False):
    """``searched`` (``before`` with the search's conditions added) as ``SearchResults``."""
    cls = type(searched)
    if not issubclass(cls, SearchResults):
        if cls not in _search_classes:
            _search_classes[cls] = type(f"Searched{cls.__name__}", (SearchResults, cls), {})
        searched = searched._chain()
        searched.__class__ = _search_classes[cls]
    where, earlier = searched.query.where, before.query.where
    added = len(where.children) - len(earlier.children)
    plain = where.connector == earlier.connector == "AND" and not where.negated and not earlier.negated
    searched._search_where = len(where.children)
    searched._search_tokens = tuple(tokens)
    searched._search_entries = entries
    searched._search_added = added if plain and added == len(tokens) else None
    searched._search_alone = alone
    searched._search_count = count
    searched._search_regions = regions if searched._search_added is not None else None
    searched._search_ids_first = ids_first
    return searched


class _InIds(Expression):
    """``"talents_talent"."id" IN (3, 17, 42 …)`` with the ids written into the SQL.

    They are integers read from the index a moment before. Passed as a thousand parameters they
    cost more than the query itself: Django prepares each and the driver splits the statement
    around each placeholder, on every page.
    """

    conditional = True
    output_field = BooleanField()

    def __init__(self, expression, ids):
        super().__init__()
        self.expression = expression
        self.ids = sorted(int(pk) for pk in ids)

    def get_source_expressions(self):
        return [self.expression]

    def set_source_expressions(self, exprs):
        (self.expression,) = exprs

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.expression)
        return f"{sql} IN ({', '.join(map(str, self.ids))})", params


def _ranked(queryset, tokens: list[str], rows: list[tuple[int, str, int]]):
    """The talents of ``rows`` (the rarest token's index entries) that match every token, ranked.

    Ranks are worked out here from the index entries (a thousand at most) rather than by a
    subquery per talent in SQL; the page then orders by a CASE over at most a dozen rank values.
    """
    driver, others = tokens[0], tokens[1:]
    ranks: dict[int, int] = {}
    for talent_id, term, kind in rows:
        rank = _term_rank(driver, term, kind)
        if rank < ranks.get(talent_id, 99):
            ranks[talent_id] = rank
    terms = TalentSearchTerm.objects.using(queryset.db)
    for token in others:
        best: dict[int, int] = {}
        found = terms.filter(_prefix(token), _InIds(F("talent_id"), ranks)).values_list("talent_id", "term", "kind")
        for talent_id, term, kind in found:
            rank = _term_rank(token, term, kind)
            if rank < best.get(talent_id, 99):
                best[talent_id] = rank
        ranks = {talent_id: rank + best[talent_id] for talent_id, rank in ranks.items() if talent_id in best}
    if not ranks:
        return queryset.none()
    by_rank: dict[int, list[int]] = {}
    for talent_id, rank in ranks.items():
        by_rank.setdefault(rank, []).append(talent_id)
    search_rank = Case(
        *[When(_InIds(F("pk"), ids), then=Value(rank)) for rank, ids in sorted(by_rank.items())],
        default=Value(99), output_field=IntegerField(),
    )
    ranked = queryset.filter(_InIds(F("pk"), ranks)).annotate(search_rank=search_rank).order_by("search_rank", "name", "pk")
    # Alone, the search's count is the number of talents ranked (every index entry is a talent's).
    alone = not queryset.query.where.children
    return _as_search_results(ranked, queryset, count=len(ranks) if alone else None)


def apply_search(queryset, query: str):
    """The talents of ``queryset`` matching ``query``, best first.

    ``queryset`` is what the user may see (already ``restrict()``-ed, perhaps filtered), so
    search can never widen scope. A valid ID-card or mobile number is looked up exactly (keyed
    hash). Otherwise every token of the query must be the start of some term of the talent.

    The order depends on how many index entries the rarest token matches (a count in the index
    of at most RANKED_LIMIT + 1 entries tells):

    - up to RANKED_LIMIT (a name, most full pinyins, longer words): ranked best first by
      ``search_rank`` — twice the best kind of term matched (name, pinyin, initials, unit,
      field, other), plus one unless the term matched whole, summed over the tokens — then by
      name and id;
    - more (a common surname alone, one or two letters, a broad word): ranking would read the
      row of every one of thousands of candidates for a page of 25. Such a result comes newest
      first, which the database reads in id order and stops at the page (``_has_term``), and its
      count is worked out apart (``SearchResults``).

    Either way the queryset comes back ordered: page it in its own order.
    """
    query = (query or "").strip()
    if not query:
        return queryset
    exact = exact_number_match(query)
    if exact is not None:
        return queryset.filter(exact).order_by("name", "pk")
    tokens = query_tokens(query)
    if not tokens:
        return queryset.none()
    terms = TalentSearchTerm.objects.using(queryset.db)
    vendor = connections[queryset.db].vendor
    # How many entries each range holds, counted in the index as far as a decision needs: only
    # the rarest token's entries are read, and only to rank them.
    limit = max(RANKED_LIMIT, SQLITE_IN_LIMIT) if vendor == "sqlite" else RANKED_LIMIT
    sizes = {}
    for token in tokens:
        sizes[token] = terms.filter(_prefix(token))[: limit + 1].count()
        if not sizes[token]:
            return queryset.none()
    tokens.sort(key=lambda token: sizes[token])
    driver = tokens[0]
    if sizes[driver] <= RANKED_LIMIT:
        rows = list(terms.filter(_prefix(driver)).values_list("talent_id", "term", "kind"))
        return _ranked(queryset, tokens, rows)
    regions, only_regions = _region_conditions(queryset)
    if vendor == "sqlite" and regions is not None:
        # The regions' share of each range decides SQLite's form (see _has_term).
        for token in tokens:
            sizes[token] = terms.filter(_prefix(token), region_id__in=regions)[: SQLITE_IN_LIMIT + 1].count()
    searched = queryset
    for token in tokens:
        searched = searched.filter(_has_term(token, vendor, sizes[token] if vendor == "sqlite" else None, regions))
    # With one token and nothing else in the where clause, the index range alone is the answer.
    alone = len(tokens) == 1 and not queryset.query.where.children
    entries = sizes[driver] if vendor == "sqlite" else None
    ids_first = vendor == "postgresql" or (regions is not None and all(sizes[t] <= SQLITE_IN_LIMIT for t in tokens))
    return _as_search_results(searched.order_by("-pk"), queryset, tokens=tokens, entries=entries, alone=alone,
                              regions=regions if only_regions else None, ids_first=ids_first)


# A token whose prefix matches at most this many index entries is ranked (see apply_search).
# Ranking reads every candidate's row for its name: about 10 µs each on PostgreSQL at a million
# talents with the default shared_buffers, so a thousand stay within a few tens of ms.
RANKED_LIMIT = 1_000
