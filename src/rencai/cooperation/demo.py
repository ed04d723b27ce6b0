"""Demo data of province–university cooperation (省校合作): the universities the city works with and
their contacts, the visits (访名校, 回访) and what came of them, agreements, projects from 洽谈 to
投产 with their stage history, milestones, supervision (督导) and monthly reports (调度), the
plan's twelve kinds of bases, and the experts and achievements of the 四库.

Which universities: real ones, by their public facts only (name, place, type tags, website) —
武汉大学, 江西理工大学, 山西大学, 太原理工大学, 中北大学 and others a Shanxi city works with
(``UNIVERSITIES``). The volumes follow what the city reported: 武汉大学 about 35 agreements and 20
landed projects worth about 6亿元 in all, 江西理工大学 many items spread over all five classes.
Everything else — people, enterprises, titles, dates, amounts — is synthetic: names from Faker,
contact mobiles in 170-0001-xxxx (a valid format, plainly not a real subscriber's, away from the
ranges of the core and registry demos).

How many: cooperation grows with the universities a city works with, not with its registry, so
``--size`` scales it gently: by ``scale_for(size)``, the square root of the registry's growth over
the small city, at most ``MAX_SCALE`` (``--size 1``: about 170 agreements and 190 projects;
``--size 1000000``: ten times as many). Experts are talents of the registry who work at a demo
university (their work unit starts with its name), at most ``EXPERTS_PER_UNIVERSITY`` × scale each.

Kept consistent with the service rules (``cooperation.services``): a project's stages are a path
through ``TRANSITIONS`` from 洽谈 or 签约, one ``StageChange`` per step, dated in order and never
after the day of the run, with the stage dates ``move`` would have set; reports are for the
periods ``due_periods`` names (from the signing period on), at most one per period, their
progress never going back, most of them submitted and the latest often not yet; rectification
problems have deadlines, most of the past ones closed, some overdue; agreements are 到期 when their
term has ended, a few end within the warning window. Dates count back from the day of the run
(as the liaison demo's do): the same seed gives the same data, shifted to the day it is loaded.

Visits turn into what their follow-ups say: an agreement signed after the visit, or a project
(洽谈 onwards) of the visited university. Converted liaison leads (项目线索, 回乡投资) become
projects too, as ``services.convert_lead`` makes them. No new liaison leads are made here: the
liaison demo's leads all come from contact records, which its tests rely on.

How fast: a few thousand rows at ``--size 1``, written by ``bulk_create`` (no signals, no change
log: the run is audited as a whole by ``rencai.demo``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from django.conf import settings
from django.utils import timezone

from rencai.cooperation import services
from rencai.cooperation.choices import (
    STAGE_DATE_FIELDS,
    AgreementStatus,
    BaseStatus,
    DatabaseKind,
    FollowUpStatus,
    InstitutionKind,
    Maturity,
    PartnerKind,
    Stage,
    TransferMode,
    VisitKind,
)
from rencai.cooperation.models import (
    Achievement,
    Agreement,
    Base,
    Expert,
    FollowUp,
    Milestone,
    Problem,
    Project,
    Report,
    StageChange,
    Supervision,
    University,
    UniversityContact,
    Visit,
)
from rencai.core.demo import COUNTY_DEPARTMENTS, COUNTY_INSTITUTIONS
from rencai.core.loading import BulkWriter
from rencai.core.models import DictionaryItem, Region, User
from rencai.core.models.regions import RegionLevel
from rencai.demo import DemoContext, register
from rencai.liaison.choices import LeadKind, LeadStatus
from rencai.liaison.models import Lead
from rencai.talents import demo_pools as pools
from rencai.talents.choices import TalentStatus, UnitType
from rencai.talents.demo import DEMO_LIAISONS, Weighted, talent_counts
from rencai.talents.models import Talent

N, S, L, B, C, T = (Stage.NEGOTIATING, Stage.SIGNED, Stage.LANDED, Stage.BUILDING, Stage.COMPLETED,
                    Stage.TERMINATED)
MAX_SCALE = 10
SMALL_CITY_TALENTS = sum(talent_counts(1).values())
EXPERTS_PER_UNIVERSITY = 12
LEAD_PROJECTS = 8  # converted liaison leads that became projects (× scale)
CONTACT_MOBILE_PREFIX = "1700001"
HISTORY_DAYS = 5 * 365  # the cooperation reaches back five years (the province's plan began then)
ACTIVE_WINDOW_DAYS = 540  # a project still under way last moved within about this many days
CITY_SHARE = 0.15  # agreements signed at the city level (市直部门, 市政府)
EXPIRING_SHARE = 0.05  # agreements whose term ends within the warning window
TERMINATED_AGREEMENTS = 0.03
REPORT_SUBMITTED = 0.92  # share of due reports submitted; the latest period's less often
LATEST_REPORT_SUBMITTED = 0.6


@dataclass(frozen=True)
class UniversityPlan:
    """A university of the demo: its public facts and how much the city does with it (at scale 1)."""

    name: str
    short_name: str
    province: str
    city: str
    tags: tuple[str, ...]
    website: str
    description: str
    fields: tuple[str, ...]  # what the cooperation is about: project names, expertise, achievements
    agreements: int
    projects: int
    landed: int  # projects that reached 落地
    visits: int
    achievements: int
    kind: str = InstitutionKind.UNIVERSITY
    landed_amount: int | None = None  # 万元: the landed projects' total, where the city reported it
    every_class: bool = False  # agreements and projects go round all the classes


DOUBLE, P985, P211, INDUSTRY, ACADEMY = "double_first_class", "p985", "p211", "industry", "academy"
UNIVERSITIES = [
    UniversityPlan("武汉大学", "武大", "湖北省", "武汉市", (DOUBLE, P985, P211), "https://www.whu.edu.cn",
                   "教育部直属全国重点大学。", ("测绘遥感", "水利水电", "新材料", "生物医药", "数字经济", "空间信息"),
                   agreements=35, projects=30, landed=20, visits=4, achievements=10, landed_amount=60000),
    UniversityPlan("江西理工大学", "江理工", "江西省", "赣州市", (INDUSTRY,), "https://www.jxust.edu.cn",
                   "以有色金属、稀土为办学特色的行业特色高校。",
                   ("稀土永磁材料", "有色金属冶炼", "矿产资源开发", "新能源材料", "镁合金"),
                   agreements=20, projects=25, landed=13, visits=3, achievements=9, every_class=True),
    UniversityPlan("山西大学", "山大", "山西省", "太原市", (DOUBLE,), "https://www.sxu.edu.cn",
                   "山西省属综合性大学，创建于1902年。", ("光电材料", "化学化工", "煤基新材料", "生态环境", "文化旅游"),
                   agreements=14, projects=14, landed=7, visits=2, achievements=7),
    UniversityPlan("太原理工大学", "太原理工", "山西省", "太原市", (DOUBLE, P211), "https://www.tyut.edu.cn",
                   "山西省属理工类重点大学，国家“211工程”建设高校。", ("煤化工", "镁合金", "智能采矿", "机械装备", "氢能"),
                   agreements=15, projects=16, landed=8, visits=2, achievements=8),
    UniversityPlan("中北大学", "中北", "山西省", "太原市", (), "https://www.nuc.edu.cn",
                   "山西省属理工类大学，以兵器科学与技术为特色。", ("装备制造", "新材料", "智能传感", "化工安全"),
                   agreements=12, projects=12, landed=6, visits=2, achievements=6),
    UniversityPlan("西安交通大学", "西交大", "陕西省", "西安市", (DOUBLE, P985, P211), "https://www.xjtu.edu.cn",
                   "教育部直属全国重点大学。", ("能源动力", "电气装备", "先进制造", "生物医药"),
                   agreements=10, projects=10, landed=5, visits=2, achievements=6),
    UniversityPlan("清华大学", "清华", "北京市", "北京市", (DOUBLE, P985, P211), "https://www.tsinghua.edu.cn",
                   "教育部直属全国重点大学。", ("人工智能", "新能源", "环境治理", "集成电路"),
                   agreements=6, projects=6, landed=3, visits=1, achievements=5),
    UniversityPlan("中国农业大学", "中国农大", "北京市", "北京市", (DOUBLE, P985, P211), "https://www.cau.edu.cn",
                   "教育部直属全国重点大学，以农业科学为特色。", ("现代种业", "畜牧养殖", "食品加工", "农业机械"),
                   agreements=8, projects=9, landed=5, visits=1, achievements=6),
    UniversityPlan("山西农业大学", "山西农大", "山西省", "晋中市", (), "https://www.sxau.edu.cn",
                   "山西省属农业大学，位于晋中市太谷区。", ("果树栽培", "棉花育种", "畜牧兽医", "农产品加工", "盐碱地改良"),
                   agreements=14, projects=16, landed=9, visits=2, achievements=8),
    UniversityPlan("运城学院", "运院", "山西省", "运城市", (), "https://www.ycu.edu.cn",
                   "位于运城市的省属本科院校。", ("农产品加工", "文化旅游", "应用化学", "机电技术"),
                   agreements=12, projects=14, landed=8, visits=1, achievements=5),
    UniversityPlan("中国科学院山西煤炭化学研究所", "山西煤化所", "山西省", "太原市", (ACADEMY,), "https://www.sxicc.ac.cn",
                   "中国科学院在山西的研究所，从事煤炭化学和碳材料研究。", ("煤制油", "碳纤维", "催化材料", "煤基碳材料"),
                   agreements=6, projects=8, landed=4, visits=1, achievements=6, kind=InstitutionKind.INSTITUTE),
    UniversityPlan("西北农林科技大学", "西农", "陕西省", "咸阳市", (DOUBLE, P985, P211), "https://www.nwafu.edu.cn",
                   "教育部直属全国重点大学，位于杨凌农业高新技术产业示范区。", ("旱作农业", "果业", "水土保持", "动物医学"),
                   agreements=7, projects=8, landed=4, visits=1, achievements=5),
    UniversityPlan("华中科技大学", "华科", "湖北省", "武汉市", (DOUBLE, P985, P211), "https://www.hust.edu.cn",
                   "教育部直属全国重点大学。", ("光电子", "智能制造", "医疗器械", "能源环境"),
                   agreements=5, projects=5, landed=2, visits=1, achievements=4),
    UniversityPlan("北京科技大学", "北科大", "北京市", "北京市", (DOUBLE, P211, INDUSTRY), "https://www.ustb.edu.cn",
                   "教育部直属全国重点大学，以冶金和材料为特色。", ("冶金工程", "金属材料", "资源循环", "智能制造"),
                   agreements=4, projects=4, landed=2, visits=1, achievements=4),
]

CLASS_WEIGHTS = [("project", 30), ("talent", 25), ("platform", 20), ("training", 13), ("achievement", 12)]
DIRECT_COMPLETION = {"talent", "training"}  # nothing to build: 落地 may go straight to 投产/完成
AGREEMENT_TERMS = [(5, 45), (3, 35), (10, 5), (None, 15)]  # years; None: 长期有效
AGREEMENT_TITLES = {
    "talent": "{u}与{p}人才合作协议", "platform": "{u}与{p}共建{field}研究院协议", "project": "{u}与{p}产学研合作协议",
    "achievement": "{u}与{p}科技成果转化合作协议", "training": "{u}与{p}人才培养合作协议",
}
FRAMEWORK_TITLE = "{u}与{p}全面战略合作框架协议"
PROJECT_NAMES = {
    "talent": ["{u}{field}专家团队柔性引进项目", "{u}博士服务团{county}服务项目", "{u}{field}青年人才引育计划"],
    "platform": ["{u}{county}{field}研究院", "{u}{field}联合实验室", "{u}{county}研究生工作站"],
    "project": ["{enterprise}{field}产业化项目", "{field}关键技术攻关项目", "{county}{field}示范工程"],
    "achievement": ["{u}{field}成果转化项目", "{field}中试基地建设项目"],
    "training": ["{county}{field}专业人才培训班", "{u}{county}干部能力提升培训", "{u}{field}订单式人才培养"],
}
AMOUNTS = {"project": (800, 1.0), "platform": (300, 0.9), "achievement": (400, 0.9), "talent": (60, 0.8),
           "training": (30, 0.7)}  # 万元: median and spread of a lognormal draw
NOT_LANDED = [("negotiating", 30), ("signed", 38), ("stopped", 14)]
LANDED = [((L,), 22), ((L, B), 30), ((L, B, C), 24), ((L, C), 12), ((L, T), 5), ((L, B, T), 7)]
START_SIGNED = 0.4  # projects first entered as already signed
GAPS = {(N, S): (30, 240), (S, L): (30, 300), (L, B): (10, 120), (B, C): (120, 540), (L, C): (60, 300),
        (N, T): (60, 300), (S, T): (60, 360), (L, T): (90, 400), (B, T): (90, 400)}
STEP_NOTES = {S: "签订项目合作协议。", L: "项目完成注册登记，落地实施。", B: "项目开工建设。", C: "项目建成投产（通过验收）。"}
TERMINATION_REASONS = ["企业经营困难，投资计划调整，双方协商终止。", "合作方技术路线变更，项目难以继续。",
                       "项目用地未能落实，暂停推进后终止。", "市场环境变化，企业放弃投资。", "高校团队调整，合作难以为继。"]
MILESTONES = {
    "talent": ["专家团队到位", "完成首期人才培养", "通过中期评估", "完成年度服务任务"],
    "platform": ["平台挂牌运行", "研发团队入驻", "完成首批研发项目", "通过绩效评估"],
    "project": ["完成项目备案", "完成土地摘牌", "主体工程开工", "设备安装调试", "竣工投产"],
    "achievement": ["签订成果转化合同", "完成中试", "产品试生产", "实现量产"],
    "training": ["制定培养方案", "首期学员入学", "完成课程教学", "考核结业"],
}
REPORT_WORK = {
    S: ["完成项目可行性研究报告编制。", "办理项目前期手续。", "对接选址和用地事宜。", "落实合作经费和团队。"],
    L: ["完成项目公司注册登记。", "完成选址，启动规划设计。", "团队入驻，启动研发工作。", "办理环评、能评手续。"],
    B: ["主体工程施工，累计完成投资{x}万元。", "设备采购安装。", "中试线建设稳步推进。", "厂房主体完工，进入装修阶段。"],
}
SERVICE_WORK = {  # the same for a talent or training project
    S: ["制定专家服务计划。", "落实人才引进经费。", "确定培养方案和学员名单。"],
    L: ["专家团队到岗开展服务。", "首期培训班开班。", "开展技术指导和人才培训。"],
}
REPORT_BLOCKERS = ["建设用地指标尚未落实。", "配套资金到位较慢。", "专业技术人员短缺。", "环评审批进度滞后。",
                   "高校团队驻地时间不足。"]
REPORT_NEXT = ["协调解决用地问题。", "组织高校专家现场指导。", "按计划推进下一节点任务。", "加快办理审批手续。",
               "召开专题调度会推进。"]
FINDINGS = ["项目推进总体顺利，资料台账基本齐全。", "项目进度滞后于计划节点。", "现场施工有序，资金拨付及时。",
            "校地双方沟通机制运转良好。", "部分节点任务未按期完成。"]
PROBLEMS = ["项目进度滞后于计划节点，需制定赶超措施。", "调度报告报送不及时。", "配套资金未按协议足额到位。",
            "项目台账资料不完整。", "高校专家服务时间未落实。", "用地手续办理缓慢。", "安全生产措施不到位。"]
CLOSURES = ["已制定整改方案并落实到位。", "已补齐相关资料。", "资金已足额拨付。", "已协调相关部门办结。"]
FOLLOW_UPS = ["推动与{u}共建{field}联合实验室", "邀请{u}专家团队来{place}开展技术对接", "对接{u}{field}领域科技成果",
              "洽谈共建大学生实习实训基地", "争取{u}在{place}设立研究生工作站", "组织{u}校友企业家来{place}考察"]
VISIT_AGREED = "双方商定在{fields}等领域加强合作，建立常态化对接机制。"
BASE_STATUSES = [(BaseStatus.RUNNING, 65), (BaseStatus.PLANNED, 20), (BaseStatus.SUSPENDED, 10), (BaseStatus.REVOKED, 5)]
BASE_HOSTS = {
    "internship": "enterprise", "employment": "enterprise", "joint_training": "enterprise", "skills": "enterprise",
    "research_platform": "enterprise", "transfer": "enterprise", "agri_supply": "enterprise",
    "think_tank": "{region}人民政府", "student_source": "{region}第一中学", "red_education": "中共{region}委党校",
    "cadre_training": "中共{region}委党校", "alumni": "{region}投资促进中心",
}
MATURITIES = [(Maturity.LAB, 20), (Maturity.PILOT, 30), (Maturity.SCALE_UP, 30), (Maturity.INDUSTRIAL, 20)]
TRANSFER_MODES = [(TransferMode.TRANSFER, 35), (TransferMode.LICENSE, 20), (TransferMode.EQUITY, 15),
                  (TransferMode.JOINT, 25), (TransferMode.OTHER, 5)]
ACHIEVEMENT_TITLES = ["{field}关键技术及产业化", "{field}智能监测与预警系统", "{field}绿色高效技术",
                      "{field}新工艺及装备", "{field}成套技术与示范"]
CONTACT_DEPARTMENTS = [("科学技术研究院", "副院长"), ("校地合作处", "处长"), ("社会合作处", "副处长"),
                       ("技术转移中心", "主任"), ("发展规划处", "科长")]
CITY_LEADER_POSTS = ["副市长", "副市长", "副市长", "市委常委、组织部部长", "市委常委、副市长", "市政府秘书长"]


def scale_for(size: int) -> float:
    """How much more cooperation ``--size`` makes than the small city: the square root of the
    registry's growth, at least 1 and at most ``MAX_SCALE``."""
    talents = sum(talent_counts(size).values())
    return min(float(MAX_SCALE), max(1.0, math.sqrt(talents / SMALL_CITY_TALENTS)))


def run_day() -> dt.date:
    """The day the dates count back from: the day of the run."""
    return timezone.localdate()


def _has_cooperation() -> bool:
    return University.objects.exists() or Agreement.objects.exists()


@register("cooperation", order=50, has_data=_has_cooperation)
def generate_cooperation(context: DemoContext) -> None:
    for label, n in _CooperationFactory(context).run().items():
        context.count(label, n)


def _link(relation, now, pairs: list[tuple[int, int]]) -> None:
    """Write the (owner, target) pairs of the many-to-many ``relation`` (e.g. ``Agreement.classes``)."""
    field = relation.field
    through = relation.through
    writer = BulkWriter(through, now)
    owner, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
    writer.write([writer.row({owner: a, target: b}) for a, b in pairs])


def _head(region: Region) -> tuple[str, str]:
    """The titles of a county's (or the city's) party secretary and head: 平陆县委书记 and 县长,
    盐湖区委书记 and 区长, 运城市委书记 and 市长."""
    suffix = region.name[-1] if region.name[-1] in "区县市" else "县"
    return f"{region.name}委书记", f"{suffix}长"


class _CooperationFactory:
    """Draws the city's cooperation, university by university, and writes it model by model."""

    def __init__(self, context: DemoContext):
        self.rng = context.random
        self.faker = context.faker
        self.scale = scale_for(context.size)
        self.today = run_day()
        self.city = Region.objects.get(code=settings.CITY_CODE)
        self.counties = list(Region.objects.filter(parent=self.city, level=RegionLevel.COUNTY).order_by("code"))
        self.county = Weighted((c, pools.COUNTY_WEIGHTS.get(c.code, 30)) for c in self.counties)
        items: dict[str, list[DictionaryItem]] = {}
        for item in DictionaryItem.objects.filter(
                dictionary__code__in=["university_tag", "cooperation_class", "cooperation_base"],
                is_active=True).select_related("dictionary").order_by("dictionary__code", "sort_order", "code"):
            items.setdefault(item.dictionary.code, []).append(item)
        self.tags = {item.code: item for item in items.get("university_tag", [])}
        self.classes = {item.code: item for item in items.get("cooperation_class", [])}
        self.base_kinds = items.get("cooperation_base", [])
        self.terms = Weighted(AGREEMENT_TERMS)
        self.landed_paths, self.not_landed = Weighted(LANDED), Weighted(NOT_LANDED)
        self.class_weights = Weighted([(c, w) for c, w in CLASS_WEIGHTS if c in self.classes] or [(None, 1)])
        users = dict(User.objects.filter(username__in=[*DEMO_LIAISONS, "demo_city_admin"]).values_list("username", "id"))
        self.city_staff = users.get("demo_city_admin")
        self.county_staff = {}
        for user in User.objects.filter(username__in=DEMO_LIAISONS).prefetch_related("regions").order_by("username"):
            for region in user.regions.all():
                self.county_staff.setdefault(region.pk, user.pk)
        self.databases = {kind: services.default_databases(kind) for kind in DatabaseKind.values}
        self.enterprises: dict[int, list[str]] = {}
        self.city_leaders = [f"{self.faker.name()} {post}" for post in CITY_LEADER_POSTS]
        self.county_leaders = {}
        for county in self.counties:
            deputy = f"副{_head(county)[1]}"
            self.county_leaders[county.pk] = [f"{self.faker.name()} {deputy}" for _ in range(2)]
        self.inspectors = [f"市委人才办 {self.faker.name()}" for _ in range(4)] + [
            f"{self.city.name}科学技术局 {self.faker.name()}" for _ in range(2)]
        self.problem_count = Weighted([(0, 35), (1, 45), (2, 20)])
        self.mobiles: set[str] = set()
        # What is drawn, written at the end model by model (parents first).
        self.universities: list[University] = []
        self.contacts: list[UniversityContact] = []
        self.visits: list[Visit] = []
        self.agreements: list[Agreement] = []
        self.agreement_classes: list[tuple[Agreement, DictionaryItem]] = []
        self.projects: list[Project] = []
        self.chains: dict[int, list[tuple[str, str, dt.date, str]]] = {}  # id(project) → its steps
        self.follow_ups: list[FollowUp] = []
        self.bases: list[Base] = []
        self.achievements: list[Achievement] = []
        self.experts: list[Expert] = []

    # --- small draws -----------------------------------------------------------------------------
    def n(self, base: int) -> int:
        return round(base * self.scale)

    def staff(self, region: Region) -> int | None:
        return self.county_staff.get(region.pk, self.city_staff)

    def stamped(self, obj, region: Region):
        obj.created_by_id = obj.updated_by_id = self.staff(region)
        return obj

    def days_ago(self, days: int) -> dt.date:
        return self.today - dt.timedelta(days=days)

    def past_day(self, span: int = HISTORY_DAYS, skew: float = 1.3) -> dt.date:
        """A day within the last ``span`` days, more of them recent (the cooperation grew)."""
        return self.days_ago(int(span * self.rng.random() ** skew))

    def between(self, first: dt.date, last: dt.date) -> dt.date:
        if last <= first:
            return first
        return first + dt.timedelta(days=self.rng.randint(0, (last - first).days))

    def enterprise(self, region: Region) -> str:
        """A synthetic enterprise of ``region`` (a few per county, met again across projects)."""
        pool = self.enterprises.setdefault(region.pk, [])
        if len(pool) < 3 + 2 * self.scale or self.rng.random() < 0.2:
            name = self.faker.company()
            if name not in pool:
                pool.append(name)
            return name
        return self.rng.choice(pool)

    def leader(self, region: Region) -> str:
        if region.pk in self.county_leaders and self.rng.random() < 0.6:
            return self.rng.choice(self.county_leaders[region.pk])
        return self.rng.choice(self.city_leaders)

    def unit(self, region: Region) -> str:
        if region == self.city:
            return f"{self.city.name}{self.rng.choice(['科学技术局', '工业和信息化局', '人力资源和社会保障局', '教育局'])}"
        name, _kind = self.rng.choice(COUNTY_DEPARTMENTS)
        return f"{region.name}{name}" if self.rng.random() < 0.8 else f"{region.name}人民政府"

    def amount(self, line: str | None) -> Decimal:
        median, sigma = AMOUNTS.get(line, (200, 0.9))
        return Decimal(max(5, round(median * math.exp(self.rng.gauss(0, sigma)))))

    def place(self) -> Region:
        return self.city if self.rng.random() < CITY_SHARE else self.county(self.rng)

    # --- the whole run ---------------------------------------------------------------------------
    def run(self) -> dict[str, int]:
        for plan in UNIVERSITIES:
            self.university(plan)
        self.lead_projects()
        self.draw_bases()
        self.draw_experts()
        return self.write()

    def university(self, plan: UniversityPlan) -> None:
        rng = self.rng
        university = University(name=plan.name, short_name=plan.short_name, kind=plan.kind, province=plan.province,
                                city=plan.city, website=plan.website, description=plan.description)
        self.stamped(university, self.city)
        university.plan = plan  # kept on the drawn (unsaved) records for what is drawn from them later
        self.universities.append(university)
        for _ in range(1 + (rng.random() < 0.5)):
            department, post = rng.choice(CONTACT_DEPARTMENTS)
            self.contacts.append(self.stamped(UniversityContact(
                university=university, name=self.faker.name(), department=department, post=post,
                mobile=self.mobile()), self.city))
        visits = [self.visit(university, plan) for _ in range(self.n(plan.visits))]
        agreements = self.draw_agreements(university, plan, visits)
        self.draw_projects(university, plan, agreements, visits)
        for _ in range(self.n(plan.achievements)):
            self.achievement(university, plan)

    def mobile(self) -> str:
        while True:
            number = f"{CONTACT_MOBILE_PREFIX}{self.rng.randint(0, 9999):04d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    # --- visits and their follow-ups -------------------------------------------------------------
    def visit(self, university: University, plan: UniversityPlan) -> Visit:
        rng = self.rng
        region = self.city if rng.random() < 0.2 else self.county(rng)
        secretary, head = _head(region)
        kind = VisitKind.OUTGOING if rng.random() < 0.75 else VisitKind.RETURN
        hosts = f"{secretary} {self.faker.name()}、{head} {self.faker.name()}"
        people = rng.randint(4, 12)
        if kind == VisitKind.OUTGOING:
            delegation, met = f"{hosts}等{people}人", f"{university.name}校领导及科研、校地合作部门负责人"
        else:
            delegation, met = f"{university.name}校领导及相关学院负责人等{people}人", hosts
        fields = "、".join(rng.sample(plan.fields, min(2, len(plan.fields))))
        visit = Visit(kind=kind, university=university, on=self.past_day(HISTORY_DAYS - 120), delegation=delegation,
                      met=met, agreed=VISIT_AGREED.format(fields=fields), region=region)
        self.visits.append(self.stamped(visit, region))
        visit.plan = plan
        # Items beyond those that become an agreement or a project (added as those are drawn): still
        # open, or after an older visit sometimes dropped.
        for _ in range(rng.randint(1, 2)):
            old = (self.today - visit.on).days > 180
            status = FollowUpStatus.DROPPED if old and rng.random() < 0.4 else FollowUpStatus.OPEN
            self.follow_up(visit, self.follow_up_text(visit), status)
        return visit

    def follow_up_text(self, visit: Visit) -> str:
        plan = visit.plan
        place = self.city.name if visit.region == self.city else visit.region.name
        return self.rng.choice(FOLLOW_UPS).format(u=plan.name, field=self.rng.choice(plan.fields), place=place)

    def follow_up(self, visit: Visit, description: str, status: str, **links) -> FollowUp:
        due_on = visit.on + dt.timedelta(days=self.rng.randint(30, 180))
        follow_up = FollowUp(visit=visit, description=description, due_on=due_on, status=status, **links)
        self.follow_ups.append(self.stamped(follow_up, visit.region))
        return follow_up

    # --- agreements ------------------------------------------------------------------------------
    def draw_agreements(self, university: University, plan: UniversityPlan, visits: list[Visit]) -> list[Agreement]:
        rng = self.rng
        count = self.n(plan.agreements)
        # Some agreements were signed after a visit, in the visiting county, a while later.
        from_visits = [v for v in visits if (self.today - v.on).days > 30 and rng.random() < 0.6][:count]
        free = range(len(from_visits), count)  # one that ends soon was signed years ago, before any visit
        expiring = set(rng.sample(free, min(len(free), max(1, round(count * EXPIRING_SHARE)))))
        class_codes = list(self.classes)
        agreements = []
        for i in range(count):
            visit = from_visits[i] if i < len(from_visits) else None
            if plan.every_class and class_codes:
                main = class_codes[i % len(class_codes)]
            else:
                main = self.class_weights(rng)
            agreement = self.agreement(university, plan, main, visit, expiring=i in expiring)
            agreements.append(agreement)
            if visit is not None:
                self.follow_up(visit, f"推动签订《{agreement.title}》", FollowUpStatus.AGREEMENT, agreement=agreement)
        return agreements

    def agreement(self, university: University, plan: UniversityPlan, main: str | None, visit: Visit | None,
                  *, expiring: bool) -> Agreement:
        rng = self.rng
        region = visit.region if visit else self.place()
        if region == self.city:
            if rng.random() < 0.7:
                partner_kind, partner = PartnerKind.DEPARTMENT, self.unit(region)
            else:
                partner_kind, partner = PartnerKind.OTHER, f"{self.city.name}人民政府"
        else:
            roll = rng.random()
            if roll < 0.55:
                partner_kind, partner = PartnerKind.COUNTY, region.name
            elif roll < 0.9:
                partner_kind, partner = PartnerKind.ENTERPRISE, self.enterprise(region)
            else:
                partner_kind, partner = PartnerKind.OTHER, f"{region.name}{rng.choice(COUNTY_INSTITUTIONS)}"
        # The term: drawn, or for a few one that ends within the warning window.
        if expiring:
            expires_on = self.today + dt.timedelta(days=rng.randint(5, settings.AGREEMENT_EXPIRY_WARNING_DAYS - 5))
            signed_on = expires_on - dt.timedelta(days=3 * 365)
        else:
            if visit is None:
                signed_on = self.past_day()
            else:
                first = min(self.today, visit.on + dt.timedelta(days=20))
                signed_on = self.between(first, min(self.today, visit.on + dt.timedelta(days=240)))
            years = self.terms(rng)
            expires_on = None if years is None else signed_on + dt.timedelta(days=round(years * 365.25) - 1)
        # As ``services.save_agreement`` and the daily job keep it: 到期 once the term has ended.
        status = AgreementStatus.ACTIVE
        if expires_on is not None and expires_on < self.today:
            status = AgreementStatus.EXPIRED
        elif not expiring and rng.random() < TERMINATED_AGREEMENTS:
            status = AgreementStatus.TERMINATED
        codes = [main] if main else []
        if rng.random() < 0.45:
            codes += rng.sample(list(self.classes), min(len(self.classes), rng.randint(1, 2)))
        codes = list(dict.fromkeys(codes))
        field = rng.choice(plan.fields)
        framework = (partner_kind == PartnerKind.COUNTY or region == self.city and partner_kind == PartnerKind.OTHER) \
            and len(codes) >= 3
        title = (FRAMEWORK_TITLE if framework or main is None else AGREEMENT_TITLES[main]).format(
            u=university.name, p=partner, field=field)
        labels = "、".join(self.classes[c].label for c in codes) or "人才、项目"
        agreement = Agreement(
            title=title[:200], university=university,
            partner_kind=partner_kind, partner=partner, signed_on=signed_on, expires_on=expires_on, status=status,
            amount=self.amount(main) if rng.random() < 0.55 else None, visit=visit, region=region,
            content=f"双方在{labels}等方面开展合作，重点围绕{field}领域共建平台、联合攻关、培养人才。")
        agreement.main_class = main
        self.agreements.append(self.stamped(agreement, region))
        self.agreement_classes += [(agreement, self.classes[c]) for c in codes]
        return agreement

    # --- projects --------------------------------------------------------------------------------
    def draw_projects(self, university: University, plan: UniversityPlan, agreements: list[Agreement],
                      visits: list[Visit]) -> None:
        rng = self.rng
        count = self.n(plan.projects)
        landed = set(rng.sample(range(count), min(count, self.n(plan.landed))))
        class_codes = list(self.classes)
        # A few projects began at a visit (its follow-up 已立项目); most belong to an agreement.
        visit_projects = [v for v in visits if rng.random() < 0.5]
        by_age = Weighted((a, 30 + (self.today - a.signed_on).days) for a in agreements) if agreements else None
        made = []
        for i in range(count):
            visit = visit_projects[i] if i < len(visit_projects) else None
            agreement = None
            if visit is None and agreements and rng.random() < 0.85:
                # A project that landed mostly belongs to an agreement of some years' standing.
                agreement = by_age(rng) if i in landed else rng.choice(agreements)
            if plan.every_class and class_codes:
                line = class_codes[i % len(class_codes)]
            elif agreement is not None and agreement.main_class and rng.random() < 0.7:
                line = agreement.main_class
            else:
                line = self.class_weights(rng)
            if agreement is not None:
                region = agreement.region if agreement.region != self.city or rng.random() < 0.3 else self.county(rng)
                earliest = agreement.signed_on
            elif visit is not None:
                region, earliest = visit.region, visit.on + dt.timedelta(days=7)
            else:
                region, earliest = self.place(), self.days_ago(HISTORY_DAYS)
            project = self.project(line, region, earliest, landed=i in landed, university=university, plan=plan,
                                   agreement=agreement, visit=visit)
            made.append(project)
            if visit is not None:
                self.follow_up(visit, project.name, FollowUpStatus.PROJECT, project=project)
        if plan.landed_amount:
            self.fix_landed_amount(made, round(plan.landed_amount * self.scale))

    def fix_landed_amount(self, projects: list[Project], total: int) -> None:
        """Make the landed ``projects`` add up to ``total`` 万元: the investment projects (not the
        talent and training ones, which stay small) share what is left in proportion to their draws."""
        landed = [p for p in projects if p.landed_on is not None]
        for p in landed:
            if p.amount is None:
                p.amount = self.amount(p.line.code if p.line else None)
        scaled = [p for p in landed if not (p.line and p.line.code in DIRECT_COMPLETION)] or landed
        left = total - sum(p.amount for p in landed if p not in scaled)
        drawn = sum(p.amount for p in scaled)
        if left <= 0 or not drawn:
            return
        for p in scaled:
            p.amount = Decimal(max(1, int(p.amount * left / drawn)))
        max(scaled, key=lambda p: p.amount).amount += total - sum(p.amount for p in landed)

    def lead_projects(self) -> None:
        """Converted liaison leads (项目线索, 回乡投资) that became projects (洽谈 onwards)."""
        leads = list(Lead.objects.filter(status=LeadStatus.CONVERTED, kind__in=[LeadKind.PROJECT, LeadKind.INVESTMENT],
                                         contact__isnull=False, project__isnull=True)
                     .select_related("region", "contact").order_by("pk")[:self.n(LEAD_PROJECTS)])
        for lead in leads:
            earliest = timezone.localtime(lead.contact.contacted_at).date() + dt.timedelta(days=7)
            project = self.project("project" if "project" in self.classes else None, lead.region, earliest,
                                   landed=self.rng.random() < 0.3, name=lead.title, start_signed=False)
            project.lead, project.description = lead, lead.description or project.description

    def project(self, line: str | None, region: Region, earliest: dt.date, *, landed: bool, university=None,
                plan: UniversityPlan | None = None, agreement=None, visit=None, name: str = "",
                start_signed: bool | None = None) -> Project:
        rng = self.rng
        if start_signed is None:
            start_signed = agreement is not None and rng.random() < START_SIGNED
        path = self.path(line, landed, start_signed)
        dates = self.chain_dates(path, min(earliest, self.today))
        enterprise = self.enterprise(region) if line in ("project", "achievement", "platform") else ""
        field = rng.choice(plan.fields) if plan else rng.choice(["新材料", "现代农业", "装备制造", "文化旅游"])
        if not name:
            template = rng.choice(PROJECT_NAMES.get(line, PROJECT_NAMES["project"]))
            county = "" if region == self.city else region.name
            name = template.format(u=plan.name if plan else "", field=field, county=county, enterprise=enterprise)
        project = Project(
            name=name[:200], line=self.classes.get(line), agreement=agreement, university=university,
            enterprise=enterprise, amount=self.amount(line) if rng.random() < 0.9 else None, leader=self.leader(region),
            responsible_unit=self.unit(region), region=region, visit=visit, stage=path[-1], stage_on=dates[-1],
            description=f"围绕{field}开展合作，由{plan.name if plan else '合作方'}提供技术和人才支撑。")
        chain = []
        previous = ""
        for stage, on in zip(path, dates, strict=True):
            note = rng.choice(TERMINATION_REASONS) if stage == T else STEP_NOTES.get(stage, "") if previous else ""
            chain.append((previous, stage, on, note))
            date_field = STAGE_DATE_FIELDS.get(stage)
            if date_field and getattr(project, date_field) is None:
                setattr(project, date_field, on)
            if stage == T:
                project.termination_reason = note
            previous = stage
        self.chains[id(project)] = chain
        self.projects.append(self.stamped(project, region))
        return project

    def path(self, line: str | None, landed: bool, start_signed: bool) -> list[str]:
        """The stages a project went through, its first one (洽谈 or 签约) first."""
        rng = self.rng
        head = [S] if start_signed else [N, S]
        if landed:
            tail = list(self.landed_paths(rng))
            if line in DIRECT_COMPLETION:  # nothing to build: a talent or training project is done once landed
                tail = [stage for stage in tail if stage != B]
            elif tail == [L, C]:
                tail = [L, B, C]
            return head + tail
        outcome = self.not_landed(rng)
        if outcome == "negotiating":
            return head[:1]
        if outcome == "signed":
            return head
        return [N, T] if not start_signed and rng.random() < 0.5 else [*head, T]

    def chain_dates(self, path: list[str], earliest: dt.date) -> list[dt.date]:
        """A day for each stage of ``path``: in order, none before ``earliest`` or after today; a
        project still under way last moved within about ``ACTIVE_WINDOW_DAYS``."""
        rng = self.rng
        gaps = [0] + [rng.randint(*GAPS[step]) for step in pairwise(path)]
        span = sum(gaps)
        latest_start = self.today - dt.timedelta(days=span)
        if latest_start >= earliest:
            first = earliest
            if path[-1] not in (C, T):
                first = max(earliest, latest_start - dt.timedelta(days=ACTIVE_WINDOW_DAYS))
            start = self.between(first, latest_start)
            offsets = [sum(gaps[:i + 1]) for i in range(len(gaps))]
        else:  # too little time since ``earliest``: the same steps, closer together
            start = earliest
            room = int((self.today - start).days * (0.5 + 0.5 * rng.random()))
            offsets = [sum(gaps[:i + 1]) * room // max(1, span) for i in range(len(gaps))]
        return [start + dt.timedelta(days=o) for o in offsets]

    # --- what hangs off a project ----------------------------------------------------------------
    def follow_project(self, project: Project, chain, rows: dict[type, list[dict]]) -> None:
        """The milestones, supervisions with their problems, and reports of a project that was
        signed, as rows (``rows``: model → rows; a problem names its supervision by position)."""
        if project.signed_on is None:
            return
        rng = self.rng
        end = project.completed_on or project.terminated_on or self.today
        line = project.line.code if project.line else "project"
        staff = self.staff(project.region)
        due = project.signed_on
        for title in MILESTONES.get(line, MILESTONES["project"])[:rng.randint(2, 4)]:
            due = due + dt.timedelta(days=rng.randint(60, 200))
            if project.completed_on and due > project.completed_on:
                due = project.completed_on
            done_on = None
            if project.completed_on or (due <= end and rng.random() < 0.8):
                done_on = min(end, max(project.signed_on, due + dt.timedelta(days=rng.randint(-30, 30))))
            elif rng.random() < 0.1:
                done_on = self.between(project.signed_on, end)
            rows[Milestone].append({"project_id": project.pk, "title": title, "due_on": due, "done_on": done_on,
                                    "created_by_id": staff, "updated_by_id": staff})
        window = (end - project.signed_on).days - 20
        for _ in range(min(3, max(0, window) // 150)):
            if rng.random() < 0.3:
                continue
            on = project.signed_on + dt.timedelta(days=20 + rng.randint(0, window))
            supervision = len(rows[Supervision])
            rows[Supervision].append({
                "project_id": project.pk, "on": on, "findings": rng.choice(FINDINGS),
                "inspector": "、".join(rng.sample(self.inspectors, 2)),
                "created_by_id": self.city_staff, "updated_by_id": self.city_staff})
            for _ in range(self.problem_count(rng)):
                deadline = on + dt.timedelta(days=rng.randint(15, 60))
                closed_on = None
                if (deadline < self.today and rng.random() < 0.7) or rng.random() < 0.2:
                    closed_on = min(self.today, on + dt.timedelta(days=rng.randint(5, (deadline - on).days + 30)))
                rows[Problem].append({
                    "supervision_id": supervision, "description": rng.choice(PROBLEMS), "deadline": deadline,
                    "closed_on": closed_on, "closure": rng.choice(CLOSURES) if closed_on else "",
                    "created_by_id": self.city_staff, "updated_by_id": self.city_staff})
        self.reports(project, chain, staff, rows[Report])

    def reports(self, project: Project, chain, staff, rows: list[dict]) -> None:
        """The reports of the periods ``project`` owes: progress that never goes back, ending near
        done for a project that was completed; most submitted, the latest period less often."""
        rng = self.rng
        periods = services.due_periods(project, self.today)
        if not periods:
            return
        target = {C: rng.randint(88, 99), B: rng.randint(40, 90), L: rng.randint(20, 50), S: rng.randint(5, 25),
                  T: rng.randint(10, 70)}[project.stage]
        progress = sorted(rng.randint(0, target) for _ in periods)
        progress[-1] = target
        for i, (period, percent) in enumerate(zip(periods, progress, strict=True)):
            last = i == len(periods) - 1
            if rng.random() >= (LATEST_REPORT_SUBMITTED if last else REPORT_SUBMITTED):
                continue
            period_end = services.next_period(period) - dt.timedelta(days=1)
            stage = S
            for _from, to, on, _note in chain:
                if on <= period_end and to in REPORT_WORK:
                    stage = to
            texts = SERVICE_WORK if project.line and project.line.code in DIRECT_COMPLETION else REPORT_WORK
            work = rng.choice(texts.get(stage, REPORT_WORK[stage])).format(x=max(1, int((project.amount or 100) * percent / 100)))
            rows.append({"project_id": project.pk, "period": period, "percent_done": percent, "work": work,
                         "blockers": rng.choice(REPORT_BLOCKERS) if rng.random() < 0.3 else "",
                         "next_steps": rng.choice(REPORT_NEXT), "created_by_id": staff, "updated_by_id": staff})

    # --- bases, experts, achievements ------------------------------------------------------------
    def draw_bases(self) -> None:
        rng = self.rng
        universities = Weighted((u, u.plan.agreements) for u in self.universities)
        by_university: dict[int, list[Agreement]] = {}
        for agreement in self.agreements:
            by_university.setdefault(id(agreement.university), []).append(agreement)
        seen = set()
        for kind in self.base_kinds:
            for _ in range(self.n(rng.randint(1, 3))):
                university = universities(rng)
                region = self.county(rng) if rng.random() < 0.85 else self.city
                if (kind.pk, id(university), region.pk) in seen:
                    continue
                seen.add((kind.pk, id(university), region.pk))
                host = BASE_HOSTS.get(kind.code, "enterprise")
                host_unit = self.enterprise(region) if host == "enterprise" else host.format(region=region.name)
                candidates = [a for a in by_university.get(id(university), []) if a.region == region]
                agreement = rng.choice(candidates) if candidates and rng.random() < 0.8 else None
                status = Weighted(BASE_STATUSES)(rng)
                established_on = None
                if status != BaseStatus.PLANNED:
                    first = agreement.signed_on if agreement else self.days_ago(HISTORY_DAYS)
                    established_on = self.between(first, self.today)
                place = "" if region == self.city else region.name
                self.bases.append(self.stamped(Base(
                    name=f"{university.name}{place}{kind.label}"[:200], kind=kind, host_unit=host_unit[:200],
                    university=university, agreement=agreement, established_on=established_on, status=status,
                    region=region, description=f"依托{host_unit}建设，由{university.name}提供指导和支持。"), region))

    def achievement(self, university: University, plan: UniversityPlan) -> None:
        rng = self.rng
        field = rng.choice(plan.fields)
        price_low = price_high = None
        roll = rng.random()
        if roll < 0.7:
            price_low = Decimal(rng.choice([10, 20, 30, 50, 80, 100, 150, 200, 300, 500]))
            price_high = price_low * rng.choice([1, Decimal("1.5"), 2, 3])
        elif roll < 0.8:
            price_low = Decimal(rng.choice([50, 100, 200]))  # 起价, the rest 面议
        owners = "、".join(self.faker.name() for _ in range(rng.randint(1, 3)))
        self.achievements.append(self.stamped(Achievement(
            title=rng.choice(ACHIEVEMENT_TITLES).format(field=field), university=university, owners=owners, field=field,
            summary=f"{university.name}在{field}领域的研究成果，可在本地企业转化应用。",
            maturity=Weighted(MATURITIES)(rng), transfer_mode=Weighted(TRANSFER_MODES)(rng),
            price_low=price_low, price_high=price_high), self.city))

    def draw_experts(self) -> None:
        """Talents who work at a demo university (or a unit of it) become its experts."""
        rng = self.rng
        by_name = sorted(self.universities, key=lambda u: -len(u.name))  # the longest name that fits
        candidates: dict[int, list[tuple]] = {}
        rows = Talent.objects.filter(unit_type__in=[UnitType.UNIVERSITY, UnitType.RESEARCH, UnitType.HOSPITAL]).exclude(
            status__in=[TalentStatus.DECEASED, TalentStatus.TRANSFERRED]).order_by("pk").values_list(
            "pk", "work_unit", "research_fields", "discipline_id", "status", "region_id")
        for row in rows.iterator(chunk_size=5000):
            for university in by_name:
                if row[1].startswith(university.name):
                    candidates.setdefault(id(university), []).append(row)
                    break
        cap = self.n(EXPERTS_PER_UNIVERSITY)
        regions = {r.pk: r for r in [self.city, *self.counties]}
        for university in self.universities:
            found = candidates.get(id(university), [])
            for pk, _unit, research_fields, discipline_id, status, region_id in rng.sample(found, min(cap, len(found))):
                fields = [f for f in research_fields.split("；") if f] if research_fields else []
                fields.append(rng.choice(university.plan.fields))
                expert = Expert(talent_id=pk, university=university, expertise="；".join(dict.fromkeys(fields)),
                                discipline_id=discipline_id,
                                available=status == TalentStatus.IN_CONTACT and rng.random() < 0.9)
                self.experts.append(self.stamped(expert, regions.get(region_id, self.city)))

    # --- writing ---------------------------------------------------------------------------------
    def write(self) -> dict[str, int]:
        now = timezone.now()
        University.objects.bulk_create(self.universities)
        _link(University.tags, now, [(u.pk, self.tags[code].pk) for u in self.universities for code in u.plan.tags
                                     if code in self.tags])
        UniversityContact.objects.bulk_create(self.contacts)
        Visit.objects.bulk_create(self.visits)
        numbers: dict[int, int] = {}  # 协议编号: by year, in the order of signing
        for agreement in sorted(self.agreements, key=lambda a: a.signed_on):
            numbers[agreement.signed_on.year] = numbers.get(agreement.signed_on.year, 0) + 1
            agreement.number = f"YCSX-{agreement.signed_on.year}-{numbers[agreement.signed_on.year]:03d}"
        Agreement.objects.bulk_create(self.agreements)
        _link(Agreement.classes, now, [(a.pk, item.pk) for a, item in self.agreement_classes])
        Project.objects.bulk_create(self.projects)
        # What hangs off the projects, the bulk of the rows, goes in through the driver's bulk path.
        rows: dict[type, list[dict]] = {StageChange: [], Milestone: [], Supervision: [], Problem: [], Report: []}
        for project in self.projects:
            chain = self.chains[id(project)]
            by = self.staff(project.region)
            rows[StageChange] += [{"project_id": project.pk, "from_stage": previous, "to_stage": stage, "on": on,
                                   "note": note, "by_id": by} for previous, stage, on, note in chain]
            self.follow_project(project, chain, rows)
        supervisions = BulkWriter(Supervision, now, with_pk=True)
        ids = supervisions.reserve_ids(len(rows[Supervision])) if rows[Supervision] else []
        for pk, row in zip(ids, rows[Supervision], strict=True):
            row["id"] = pk
        for row in rows[Problem]:
            row["supervision_id"] = ids[row["supervision_id"]]
        for model, made in rows.items():
            writer = supervisions if model is Supervision else BulkWriter(model, now)
            writer.write([writer.row(row) for row in made])
        FollowUp.objects.bulk_create(self.follow_ups)
        Base.objects.bulk_create(self.bases)
        Expert.objects.bulk_create(self.experts)
        Achievement.objects.bulk_create(self.achievements)
        for model, records, kind in ((Project, self.projects, DatabaseKind.PROJECT),
                                     (Expert, self.experts, DatabaseKind.EXPERT),
                                     (Achievement, self.achievements, DatabaseKind.ACHIEVEMENT)):
            _link(model.databases, now, [(r.pk, d.pk) for r in records for d in self.databases[kind]])
        return {
            "cooperation_universities": len(self.universities), "cooperation_contacts": len(self.contacts),
            "cooperation_visits": len(self.visits), "cooperation_follow_ups": len(self.follow_ups),
            "cooperation_agreements": len(self.agreements), "cooperation_projects": len(self.projects),
            "cooperation_stage_changes": len(rows[StageChange]), "cooperation_milestones": len(rows[Milestone]),
            "cooperation_supervisions": len(rows[Supervision]), "cooperation_problems": len(rows[Problem]),
            "cooperation_reports": len(rows[Report]), "cooperation_bases": len(self.bases),
            "cooperation_experts": len(self.experts), "cooperation_achievements": len(self.achievements),
        }
