"""A seeded registry with known duplicates, for the dedupe tests and benchmark.

People get Chinese names (surnames weighted as Faker zh_CN weighs them, given names of one or two
characters), a birth date, mostly a valid ID number, a mobile, sometimes an e-mail, a 籍贯 among
运城's counties and a work unit. A share of them is entered a second time with the errors county
sheets carry: a homophone or a wrong character in the name, a character missing or added, digits
of the birth date swapped or month and day transposed, the ID number missing (a registry holds a
number once, so a duplicate never repeats it), a changed or missing mobile, another work unit.

The same seed gives the same registry, the truth included (``entity`` of each person).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from rencai.core.validators import id_check_char

COUNTIES = ("140802", "140821", "140822", "140823", "140824", "140825", "140826", "140827", "140828",
            "140829", "140830", "140881", "140882")
# Characters common in given names, beside Faker's list (more variety, and homophones among them).
GIVEN_CHARS = (
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子"
    "杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮"
    "政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航"
    "弘秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳"
    "嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕"
    "馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝丽阳"
    "妮宝贝初程梵罡恒鸿桦骅剑娇纪宽苛灵玛媚琪晴容睿烁堂唯威韦雯苇萱阅彦宇雨洋忠宗曼紫逸贤蝶菡绿蓝儿翠烟"
)
UNIT_PLACES = ("运城", "盐湖", "永济", "河津", "太原", "北京", "西安", "上海", "深圳", "临猗", "闻喜", "芮城")
UNIT_KINDS = ("市人民医院", "中学", "大学", "职业技术学院", "农业科学研究所", "供电公司", "铝业有限公司",
              "电子科技有限公司", "建设集团有限公司", "农商银行", "第一中学", "疾病预防控制中心", "规划设计研究院",
              "化工有限公司", "食品有限公司", "物流有限公司", "中心小学", "气象局", "税务局", "水利局")


@dataclass
class Person:
    entity: int
    name: str
    gender: str
    birth_date: dt.date | None
    id_card: str
    mobile: str
    email: str
    native_place: str  # a county code
    work_unit: str


def _surnames():
    from faker.providers.person.zh_CN import Provider

    names = list(Provider.last_names)
    weights = list(Provider.last_names.values())
    return names, weights


def _homophones(chars: str) -> dict[str, list[str]]:
    from pypinyin import Style, lazy_pinyin

    by_sound: dict[str, list[str]] = {}
    for char in dict.fromkeys(chars):
        by_sound.setdefault(lazy_pinyin(char, style=Style.NORMAL)[0], []).append(char)
    return {char: [other for other in group if other != char] for group in by_sound.values() for char in group}


def generate(count: int, *, duplicate_share: float = 0.05, seed: int = 20261128) -> list[Person]:
    """``count`` records of which ``duplicate_share`` are second entries of someone already there."""
    rng = random.Random(seed)
    surnames, weights = _surnames()
    from faker.providers.person.zh_CN import Provider

    given_pool = "".join(dict.fromkeys("".join(Provider.first_names) + GIVEN_CHARS))
    homophones = _homophones(given_pool + "".join(surnames))
    units = [f"{place}{kind}" for place in UNIT_PLACES for kind in UNIT_KINDS]
    originals = count - int(count * duplicate_share)
    people: list[Person] = []
    used_ids: set[str] = set()
    used_mobiles: set[str] = set()

    def mobile() -> str:
        while True:
            number = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
            if number not in used_mobiles:
                used_mobiles.add(number)
                return number

    for entity in range(originals):
        surname = rng.choices(surnames, weights)[0]
        given = "".join(rng.choice(given_pool) for _ in range(1 if rng.random() < 0.4 else 2))
        gender = rng.choice(("male", "female"))
        birth = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(365 * 45))
        county = rng.choice(COUNTIES)
        id_card = ""
        if rng.random() < 0.8:
            while True:
                order = rng.randrange(100) * 10 + rng.choice((1, 3, 5, 7, 9) if gender == "male" else (0, 2, 4, 6, 8))
                first17 = f"{county}{birth:%Y%m%d}{order:03d}"
                id_card = first17 + id_check_char(first17)
                if id_card not in used_ids:
                    used_ids.add(id_card)
                    break
        people.append(Person(
            entity=entity, name=surname + given, gender=gender, birth_date=birth, id_card=id_card,
            mobile=mobile() if rng.random() < 0.75 else "",
            email=f"u{entity}@example.com" if rng.random() < 0.3 else "",
            native_place=county, work_unit=rng.choice(units) if rng.random() < 0.9 else "",
        ))
    for original in rng.sample(people[:originals], count - originals):
        people.append(_second_entry(original, rng, homophones, given_pool, units, mobile))
    rng.shuffle(people)
    return people


def _second_entry(person: Person, rng: random.Random, homophones, given_pool, units, mobile) -> Person:
    copy = Person(**person.__dict__)
    name = copy.name
    roll = rng.random()
    position = rng.randrange(1, len(name))
    if roll < 0.3 and homophones.get(name[position]):
        name = name[:position] + rng.choice(homophones[name[position]]) + name[position + 1:]
    elif roll < 0.4 and homophones.get(name[0]):
        name = rng.choice(homophones[name[0]]) + name[1:]  # 张/章
    elif roll < 0.5 and len(name) >= 3:
        name = name[:position] + rng.choice(given_pool) + name[position + 1:]
    elif roll < 0.55 and len(name) >= 3:
        name = name[:position] + name[position + 1:]
    elif roll < 0.6 and len(name) == 2:
        name = name + rng.choice(given_pool)
    copy.name = name
    roll = rng.random()
    if copy.birth_date and roll < 0.15:
        digits = copy.birth_date.strftime("%Y%m%d")
        for _ in range(10):
            if rng.random() < 0.5:
                candidate = digits[:4] + digits[6:8] + digits[4:6]
            else:
                index = rng.randrange(2, 7)
                candidate = digits[:index] + digits[index + 1] + digits[index] + digits[index + 2:]
            try:
                changed = dt.date(int(candidate[:4]), int(candidate[4:6]), int(candidate[6:8]))
            except ValueError:
                continue
            if changed != copy.birth_date:
                copy.birth_date = changed
                break
    elif roll < 0.2:
        copy.birth_date = None
    # A registry holds an ID number once: the second entry lacks it, or the first did.
    if copy.id_card and rng.random() < 0.5:
        copy.id_card = ""
    elif copy.id_card:
        person.id_card = ""
    if copy.id_card:  # the registry fills birth date and gender from the number
        copy.birth_date = dt.date(int(copy.id_card[6:10]), int(copy.id_card[10:12]), int(copy.id_card[12:14]))
        copy.gender = person.gender
    roll = rng.random()
    if roll < 0.4:
        copy.mobile = mobile()
    elif roll < 0.6:
        copy.mobile = ""
    if rng.random() < 0.5:
        copy.email = ""
    roll = rng.random()
    if roll < 0.4:
        copy.work_unit = rng.choice(units)
    elif roll < 0.5:
        copy.work_unit = ""
    if rng.random() < 0.05:
        copy.native_place = ""
    return copy


def as_records(people: list[Person], native_place_ids: dict[str, int] | None = None) -> list[tuple]:
    """Tuples in ``scoring.FIELDS`` order (hashing the numbers as the registry does), ``pk`` the
    position in ``people``: for scoring without a database."""
    from rencai.imports.dedupe.scoring import _hash

    ids = native_place_ids or {code: int(code) for code in COUNTIES}
    return [
        (index, p.name, p.gender, p.birth_date, _hash("id_card", p.id_card), _hash("mobile", p.mobile), p.email,
         ids.get(p.native_place), p.work_unit, None, 1)
        for index, p in enumerate(people)
    ]
