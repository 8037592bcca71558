"""Realistic, deterministic sample raw files, with a small known share of every kind of problem.

The shapes follow the policy: Chinese company names with valid USCCs registered in Shangcheng (330102),
institutions, investment firms and people (resident IDs, passports for foreign experts); each clause's
awards sized by its caps; bureaus from the measure's responsible units; loans priced at the LPR. A few
percent of the records break one rule each, so every finding of the warehouse has examples.
"""

from __future__ import annotations

import contextlib
import csv
import math
import random
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from . import progress
from .contract import APPLICATIONS, BENEFICIARIES, DISBURSEMENTS
from .errors import UserFacingError
from .identifiers import USCC_ALPHABET, is_valid_resident_id, resident_id_check_char, uscc_check_char
from .paths import output_folder

BASE_BENEFICIARIES = {"enterprise": 420, "institution": 40, "investor": 30, "person": 70}
BASE_APPLICATIONS = 5000
SHANGCHENG = "330102"

MEASURE_BUREAUS = {
    "M01": ["区发改经信局"],
    "M02": ["区科技局", "区数据局"],
    "M03": ["区发改经信局", "区网信办"],
    "M04": ["区发改经信局", "区科技局"],
    "M05": ["区发改经信局", "区科技局", "钱塘智慧城管委会"],
    "M06": ["玉皇山南基金小镇"],
    "M07": ["区发改经信局"],
    "M08": ["区科技局", "区发改经信局"],
    "M09": ["区数据局"],
    "M10": ["区委人才办", "区科技局"],
    "M11": ["上城资本", "区科技局", "玉皇山南基金小镇"],
    "M12": ["区科技局"],
}
ALL_BUREAUS = sorted({b for bureaus in MEASURE_BUREAUS.values() for b in bureaus})


# caps the clean sample (`generate --clean`) respects beyond the shapes below (seed policy_clauses)
PROJECT_CAP_YUAN = 10_000_000  # M11-4, per project
# per beneficiary over the policy period
LIFETIME_CAP_YUAN = {"M02-3": 30_000_000, "M07-2": 20_000_000, "M11-2": 3_000_000, "M11-3": 1_000_000}


@dataclass(frozen=True)
class ClauseShape:
    """How awards under a clause look: who applies, how often, and how big (yuan)."""

    code: str
    weight: int
    types: tuple[str, ...]
    typical: int  # a typical approved amount
    ceiling: int | None = None  # per-award cap, to shape amounts near it
    base_ratio: Decimal | None = None  # awards are a share of a base amount
    annual_cap: int | None = None
    tiers: dict[int, int] = field(default_factory=dict)
    loan: bool = False
    project: bool = False
    once_only: bool = False
    monetary: bool = True


EI = ("enterprise", "institution")
E = ("enterprise",)  # clauses whose text names enterprises (企业) only
CLAUSES = [
    ClauseShape("M01-1", 14, E, 800_000, base_ratio=Decimal("1"), annual_cap=5_000_000),
    ClauseShape("M02-1", 4, E, 2_500_000, ceiling=5_000_000),
    ClauseShape("M02-2", 5, EI, 4_000_000, ceiling=10_000_000, base_ratio=Decimal("1")),
    ClauseShape("M02-3", 8, E, 3_000_000, base_ratio=Decimal("0.3")),
    ClauseShape("M03-1", 1, EI, 20_000_000, ceiling=50_000_000, base_ratio=Decimal("1")),
    ClauseShape("M03-2", 3, EI, 2_000_000, ceiling=5_000_000, base_ratio=Decimal("1")),
    ClauseShape("M03-3", 4, E, 300_000, ceiling=500_000, base_ratio=Decimal("1"), once_only=True),
    ClauseShape("M03-4", 2, E, 600_000, ceiling=1_000_000),
    ClauseShape("M04-1", 3, EI, 2_500_000, ceiling=5_000_000),
    ClauseShape("M04-2", 5, EI, 1_000_000, ceiling=2_000_000),
    ClauseShape("M04-3", 2, EI, 2_000_000, ceiling=5_000_000),
    ClauseShape("M04-4", 3, EI, 2_000_000, ceiling=4_000_000),
    ClauseShape("M04-5", 4, EI, 300_000, ceiling=500_000),
    ClauseShape("M04-6", 2, E, 400_000, ceiling=500_000, once_only=True),
    ClauseShape("M05-1", 4, E, 1_500_000, ceiling=5_000_000, once_only=True),
    ClauseShape("M05-2", 8, E, 800_000, ceiling=2_000_000),
    ClauseShape("M06-1", 0, EI, 0, monetary=False),
    ClauseShape("M07-1", 1, EI, 1_200_000, annual_cap=2_000_000),
    ClauseShape("M07-2", 1, EI, 6_000_000, base_ratio=Decimal("1")),
    ClauseShape("M07-3", 1, EI, 1_200_000, annual_cap=2_000_000),
    ClauseShape("M07-4", 2, EI, 1_000_000, tiers={1: 2_000_000, 2: 1_000_000, 3: 500_000}),
    ClauseShape("M08-1", 2, E, 8_000_000, ceiling=22_000_000),
    ClauseShape("M08-2", 1, EI, 12_000_000, ceiling=30_000_000),
    ClauseShape("M08-3", 2, EI, 1_200_000, annual_cap=2_000_000),
    ClauseShape("M08-4", 1, EI, 2_500_000, ceiling=5_000_000),
    ClauseShape("M09-1", 2, EI, 1_000_000, ceiling=2_000_000),
    ClauseShape("M09-2", 2, EI, 600_000, annual_cap=1_000_000),
    ClauseShape("M10-1", 1, ("person",), 10_000_000, ceiling=30_000_000),
    ClauseShape("M10-2", 3, ("person",), 2_000_000, ceiling=6_000_000),
    ClauseShape("M10-3", 5, ("enterprise",), 400_000, ceiling=800_000),
    ClauseShape("M10-4", 3, ("person",), 300_000, annual_cap=600_000),
    ClauseShape("M11-1", 0, EI, 0, monetary=False),
    ClauseShape("M11-2", 6, E, 900_000, loan=True),
    ClauseShape("M11-3", 6, E, 400_000, loan=True),
    ClauseShape("M11-4", 5, ("investor",), 3_000_000, base_ratio=Decimal("0.01"), annual_cap=50_000_000, project=True),
    ClauseShape("M12-1", 4, EI, 500_000, base_ratio=Decimal("0.5"), annual_cap=1_000_000),
]
LPR = [  # (effective on, 1-year %, 5-year %), as in seeds/policy/policy_lpr_rates.csv
    (date(2022, 8, 22), Decimal("3.65"), Decimal("4.30")),
    (date(2023, 6, 20), Decimal("3.55"), Decimal("4.20")),
    (date(2023, 8, 21), Decimal("3.45"), Decimal("4.20")),
    (date(2024, 2, 20), Decimal("3.45"), Decimal("3.95")),
    (date(2024, 7, 22), Decimal("3.35"), Decimal("3.85")),
    (date(2024, 10, 21), Decimal("3.10"), Decimal("3.60")),
    (date(2025, 5, 20), Decimal("3.00"), Decimal("3.50")),
]

DAY_COUNT = 360  # interest year of the loan clauses (seed policy_clauses.interest_day_count)

CITY_PREFIXES = ["杭州", "浙江", "杭州上城", "杭州钱塘", "浙江之江"]
NAME_WORDS = [
    "智算",
    "云图",
    "深思",
    "灵犀",
    "星河",
    "数智",
    "天枢",
    "鲲鹏",
    "明理",
    "知行",
    "睿视",
    "语镜",
    "澜途",
    "极光",
    "青藤",
    "锦程",
    "算力",
    "沧浪",
    "观澜",
    "拾光",
    "钱江",
    "望潮",
    "吴山",
    "凤凰",
    "南宋",
    "清波",
    "湖滨",
    "紫阳",
    "九章",
    "问天",
    "若谷",
    "长河",
    "墨子",
    "通明",
    "远见",
    "卓识",
    "启元",
    "新纪",
    "维度",
    "矩阵",
]
INDUSTRIES = ["人工智能科技", "智能科技", "数据技术", "信息技术", "机器人科技", "大模型科技", "算力科技", "软件"]
INSTITUTION_KINDS = ["人工智能研究院", "智能计算实验室", "数据科学研究中心", "创新研究院"]
INVESTOR_KINDS = ["创业投资合伙企业（有限合伙）", "股权投资管理有限公司", "私募基金管理有限公司", "产业投资有限公司"]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
    "姚卢钟姜崔谭陆范汪廖石金贾夏韦傅方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏晨宇博文浩然思远一鸣子涵梓萱欣怡雨泽"
FOREIGN_NAMES = [
    "约翰·史密斯",
    "玛丽亚·加西亚",
    "汉斯·穆勒",
    "田中健一",
    "金敏俊",
    "艾米丽·布朗",
    "皮埃尔·杜邦",
    "伊万·彼得罗夫",
]


def _yuan(value: Decimal | int) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _round_to(value: float, step: int) -> int:
    return max(step, int(round(value / step)) * step)


@dataclass
class Taken:
    """Identifiers and names already given, shared by the shards of one sample so that none repeats."""

    ids: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)


class SampleWriter:
    """Generates the records of the three files for one seed and scale (one shard of a large sample)."""

    def __init__(
        self, seed: int, scale: float, problems: bool = True, shard: int = 0, taken: Taken | None = None
    ) -> None:
        # shard 0 draws from the seed itself, so that a sample of one shard is what it has always been
        self.rng = random.Random(seed if shard == 0 else seed * 1_000_003 + shard)
        self.scale = scale
        self.tag = "" if shard == 0 else f"S{shard:03d}"  # keeps the shards' numbered ids apart
        # without problems no record breaks a rule; the random draws stay the same either way
        self.problems = problems
        self.beneficiaries: list[dict[str, str]] = []
        self.by_type: dict[str, list[dict[str, str]]] = {t: [] for t in BASE_BENEFICIARIES}
        self.applications: list[dict[str, str]] = []
        self.disbursements: list[dict[str, str]] = []
        taken = taken or Taken()
        self._names = taken.names
        self._ids = taken.ids
        self._used: dict[tuple[str, str, int], Decimal] = {}
        self._used_in_all_years: dict[tuple[str, str], Decimal] = {}  # the same summed over years
        self._once: set[tuple[str, str]] = set()

    # --- beneficiaries -------------------------------------------------------------------------
    def _uscc(self, prefix: str) -> str:
        while True:
            body = prefix + SHANGCHENG + "".join(self.rng.choice(USCC_ALPHABET[:-5]) for _ in range(9))
            code = body + uscc_check_char(body)
            if code not in self._ids:
                self._ids.add(code)
                return code

    def _resident_id(self) -> str:
        while True:
            # 上城区 has its code 330102 since 1983: stdnum (the reference) checks the code was in use at birth
            born = date(1983, 1, 1) + timedelta(days=self.rng.randrange(0, 17 * 365))
            body = f"{SHANGCHENG}{born:%Y%m%d}{self.rng.randrange(0, 1000):03d}"
            number = body + resident_id_check_char(body)
            if number not in self._ids:
                self._ids.add(number)
                return number

    def _unique_name(self, make) -> str:
        for attempt in range(1000):
            name = make()
            if attempt > 20:
                name = f"{name[:-4]}{attempt}{name[-4:]}"
            if name not in self._names:
                self._names.add(name)
                return name
        raise RuntimeError("could not make a unique name")

    def make_beneficiaries(self) -> None:
        rng = self.rng
        for kind, base_count in BASE_BENEFICIARIES.items():
            for _ in range(max(2, round(base_count * self.scale))):
                registered = date(2008, 1, 1) + timedelta(days=rng.randrange(0, 17 * 365))
                if kind == "enterprise":
                    name = self._unique_name(
                        lambda: (
                            f"{rng.choice(CITY_PREFIXES)}{rng.choice(NAME_WORDS)}"
                            f"{rng.choice(NAME_WORDS)}{rng.choice(INDUSTRIES)}有限公司"
                        )
                    )
                    record = {"beneficiary_id": self._uscc("91"), "id_type": "uscc"}
                elif kind == "institution":
                    name = self._unique_name(
                        lambda: f"{rng.choice(CITY_PREFIXES)}{rng.choice(NAME_WORDS)}{rng.choice(INSTITUTION_KINDS)}"
                    )
                    record = {"beneficiary_id": self._uscc(rng.choice(["12", "52"])), "id_type": "uscc"}
                elif kind == "investor":
                    name = self._unique_name(
                        lambda: f"杭州{rng.choice(NAME_WORDS)}{rng.choice(NAME_WORDS)}{rng.choice(INVESTOR_KINDS)}"
                    )
                    record = {"beneficiary_id": self._uscc("91"), "id_type": "uscc"}
                elif rng.random() < 0.2:
                    name = self._unique_name(lambda: rng.choice(FOREIGN_NAMES) + rng.choice("ABCDEFGH"))
                    passport = f"{rng.choice('EGKP')}{rng.randrange(10**7, 10**8)}"
                    record = {"beneficiary_id": passport, "id_type": "passport"}
                else:
                    name = self._unique_name(
                        lambda: rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2])))
                    )
                    record = {"beneficiary_id": self._resident_id(), "id_type": "resident_id"}
                record |= {
                    "beneficiary_name": name,
                    "beneficiary_type": kind,
                    "registered_on": registered.isoformat(),
                    "district": "上城区" if rng.random() < 0.93 else rng.choice(["拱墅区", "西湖区", "滨江区"]),
                }
                self.beneficiaries.append(record)
                self.by_type[kind].append(record)

    # --- applications --------------------------------------------------------------------------
    def _lpr(self, on: date, long_term: bool) -> Decimal:
        rate = LPR[0]
        for row in LPR:
            if row[0] <= on:
                rate = row
        return rate[2] if long_term else rate[1]

    def _amounts(self, shape: ClauseShape, record: dict[str, str], applied: date) -> Decimal:
        """Fill basis fields on `record` and return the amount the bureau would approve."""
        rng = self.rng
        amount = Decimal(_round_to(shape.typical * rng.lognormvariate(0, 0.45), 1000))
        if shape.ceiling and amount > shape.ceiling:
            amount = Decimal(shape.ceiling)
        if shape.tiers:
            tier = rng.choice(list(shape.tiers))
            record["tier"] = str(tier)
            amount = Decimal(shape.tiers[tier])
        if shape.loan:
            # size the loan so that its LPR interest is about the amount drawn above
            start = applied - timedelta(days=rng.randrange(30, 400))
            long_term = rng.random() < 0.08
            days = rng.randrange(1830, 2200) if long_term else rng.choice([180, 270, 365, 365, 366])
            rate = self._lpr(start, long_term)
            principal = Decimal(_round_to(float(amount * DAY_COUNT * 100 / (rate * days)), 10_000))
            interest = (principal * rate * days / Decimal(DAY_COUNT * 100)).quantize(Decimal("0.01"), ROUND_HALF_UP)
            paid = (interest * Decimal(rng.uniform(0.98, 1.25))).quantize(Decimal("0.01"))
            record |= {
                "loan_principal": _yuan(principal),
                "loan_start_on": start.isoformat(),
                "loan_end_on": (start + timedelta(days=days)).isoformat(),
                "base_amount": _yuan(paid),
            }
            amount = min(interest, paid)
        if shape.base_ratio is not None:
            # the base usually leaves room; now and then the ratio binds
            ratio_binds = rng.random() <= 0.04 and self.problems
            headroom = rng.uniform(0.8, 0.99) if ratio_binds else rng.uniform(1.0, 1.6)
            base = (amount / shape.base_ratio * Decimal(headroom)).quantize(Decimal("0.01"))
            record["base_amount"] = _yuan(base)
        if shape.project and not self.problems:
            amount = min(amount, Decimal(PROJECT_CAP_YUAN))
        if shape.project:
            shared_project = rng.randrange(1, max(2, int(120 * self.scale)))
            # projects shared by several awards can exhaust the project cap; the clean sample gives each its own
            project_no = shared_project if self.problems else 100_000 + len(self.applications)
            record["project_id"] = f"PRJ-{applied.year}-{project_no:05d}"
        return amount

    def make_applications(self) -> None:
        rng = self.rng
        shapes = [s for s in CLAUSES if s.weight]
        weights = [s.weight for s in shapes]
        count = max(50, round(BASE_APPLICATIONS * self.scale))
        for number in range(1, count + 1):
            shape = rng.choices(shapes, weights)[0]
            year = rng.choice([2025, 2025, 2026, 2026, 2027])
            beneficiary = self._eligible_beneficiary(shape, year)
            applied = date(year, 1, 1) + timedelta(days=rng.randrange(0, 330))
            status = rng.choices(["approved", "submitted", "rejected", "withdrawn"], [72, 10, 11, 7])[0]
            record = dict.fromkeys(APPLICATIONS.columns, "")
            record |= {
                "application_id": f"SQ{year}{self.tag}{number:07d}",
                "beneficiary_id": beneficiary["beneficiary_id"],
                "clause_code": shape.code,
                "award_year": str(year),
                "applied_on": applied.isoformat(),
                "status": status,
            }
            amount = self._amounts(shape, record, applied)
            if not self.problems and shape.once_only and (beneficiary["beneficiary_id"], shape.code) in self._once:
                status = record["status"] = "rejected"  # a once-only award already granted
            if status == "approved":
                amount = self._fit_running_caps(shape, beneficiary["beneficiary_id"], year, amount)
            requested = (
                amount if rng.random() < 0.7 else Decimal(_round_to(float(amount) * rng.uniform(1.0, 1.3), 1000))
            )
            record["requested_amount"] = _yuan(requested)
            if status == "approved":
                approved_on = applied + timedelta(days=rng.randrange(20, 120))
                record |= {
                    "approved_amount": _yuan(amount),
                    "approved_on": approved_on.isoformat(),
                    "approving_bureau": rng.choice(MEASURE_BUREAUS[shape.code[:3]]),
                }
            self.applications.append(record)

    def _eligible_beneficiary(self, shape: ClauseShape, year: int) -> dict[str, str]:
        """A beneficiary of an allowed type that has not used up this clause (once-only, annual cap)."""
        candidate = self.rng.choice(self.by_type[self.rng.choice(shape.types)])
        for _ in range(8):
            key = (candidate["beneficiary_id"], shape.code)
            used = self._used.get((*key, year), Decimal(0))
            lifetime = LIFETIME_CAP_YUAN.get(shape.code)
            if (
                not (shape.once_only and key in self._once)
                and not (shape.annual_cap and used >= shape.annual_cap / 2)
                and not (lifetime and self._used_over_years(*key) >= lifetime / 2)
            ):
                break
            candidate = self.rng.choice(self.by_type[self.rng.choice(shape.types)])
        return candidate

    def _used_over_years(self, beneficiary_id: str, code: str) -> Decimal:
        return self._used_in_all_years.get((beneficiary_id, code), Decimal(0))

    def _fit_running_caps(self, shape: ClauseShape, beneficiary_id: str, year: int, amount: Decimal) -> Decimal:
        """Bureaus mostly approve within the running caps: trim to the room left and record the use."""
        key = (beneficiary_id, shape.code, year)
        if shape.annual_cap:
            room = Decimal(shape.annual_cap) - self._used.get(key, Decimal(0))
            amount = max(Decimal(0), min(amount, room))
        if shape.code in LIFETIME_CAP_YUAN and (not self.problems or shape.code != "M07-2"):
            used = self._used_over_years(beneficiary_id, shape.code)
            amount = max(Decimal(0), min(amount, LIFETIME_CAP_YUAN[shape.code] - used))
        self._used[key] = self._used.get(key, Decimal(0)) + amount
        self._used_in_all_years[key[:2]] = self._used_in_all_years.get(key[:2], Decimal(0)) + amount
        if shape.once_only:
            self._once.add((beneficiary_id, shape.code))
        return amount

    # --- disbursements -------------------------------------------------------------------------
    def make_disbursements(self) -> None:
        rng = self.rng
        number = 0
        for app in self.applications:
            if app["status"] != "approved" or rng.random() < 0.12:  # some approvals are not paid yet
                continue
            approved = Decimal(app["approved_amount"])
            if approved == 0:
                continue
            approved_on = date.fromisoformat(app["approved_on"])
            parts = rng.choice([1, 1, 1, 2, 2, 3])
            shares = [Decimal(1) / parts] * parts
            bureau = rng.choice(MEASURE_BUREAUS[app["clause_code"][:3]])
            paid_so_far = Decimal(0)
            for index, share in enumerate(shares):
                number += 1
                amount = approved - paid_so_far if index == parts - 1 else (approved * share).quantize(Decimal("0.01"))
                paid_so_far += amount
                paid_on = approved_on + timedelta(days=rng.randrange(10, 90) + 120 * index)
                self.disbursements.append(
                    {
                        "disbursement_id": f"BF{self.tag}{number:08d}",
                        "application_id": app["application_id"],
                        "paid_on": paid_on.isoformat(),
                        "amount": _yuan(amount),
                        "kind": "payment",
                        "paying_bureau": bureau,
                        "voucher_no": f"PZ{paid_on:%Y%m}{self.tag}{number:07d}",
                    }
                )
            if rng.random() < 0.02:  # a later clawback of part of the award
                number += 1
                paid_on = approved_on + timedelta(days=rng.randrange(200, 400))
                self.disbursements.append(
                    {
                        "disbursement_id": f"BF{self.tag}{number:08d}",
                        "application_id": app["application_id"],
                        "paid_on": paid_on.isoformat(),
                        "amount": _yuan((approved * Decimal(rng.uniform(0.1, 0.5))).quantize(Decimal("0.01"))),
                        "kind": "clawback",
                        "paying_bureau": bureau,
                        "voucher_no": f"PZ{paid_on:%Y%m}{self.tag}{number:07d}",
                    }
                )

    # --- problems --------------------------------------------------------------------------------
    def inject_problems(self) -> None:
        """Break a small known share of the records, each one rule at a time."""
        rng = self.rng
        apps = self.applications
        approved = [a for a in apps if a["status"] == "approved"]
        not_approved = [a for a in apps if a["status"] in ("rejected", "withdrawn")]
        few = max(2, round(len(apps) * 0.004))

        def pick(pool, n):
            return rng.sample(pool, min(n, len(pool)))

        # over the cap: approve more than the clause allows
        for app in pick(approved, few * 3):
            app["approved_amount"] = _yuan(Decimal(app["approved_amount"]) * Decimal("1.6") + 500_000)
        # once-only clauses applied for twice
        for shape in (s for s in CLAUSES if s.once_only):
            for app in pick([a for a in approved if a["clause_code"] == shape.code], max(1, few // 3)):
                twin = dict(app, application_id=app["application_id"] + "B")
                apps.append(twin)
        # non-monetary clause with money
        for beneficiary in pick(self.by_type["enterprise"], max(1, few // 2)):
            apps.append(self._extra_app(beneficiary["beneficiary_id"], "M06-1", "玉皇山南基金小镇", "300000.00"))
        # beneficiary type not allowed (a person under M01-1)
        for beneficiary in pick(self.by_type["person"], max(1, few // 2)):
            apps.append(self._extra_app(beneficiary["beneficiary_id"], "M05-2", "区科技局", "200000.00"))
        # missing basis: ratio clause without base, tiered clause without tier
        for app in pick([a for a in approved if a["base_amount"] and not a["loan_principal"]], few):
            app["base_amount"] = ""
        # approved outside the policy window
        for app in pick(approved, few):
            app["award_year"] = rng.choice(["2024", "2028"])
        # bureau not responsible for the measure
        for app in pick(approved, few):
            others = [b for b in ALL_BUREAUS if b not in MEASURE_BUREAUS[app["clause_code"][:3]]]
            app["approving_bureau"] = rng.choice(others)
        # approved before applied
        for app in pick(approved, few):
            app["approved_on"] = (
                date.fromisoformat(app["applied_on"]) - timedelta(days=rng.randrange(1, 30))
            ).isoformat()
        # unknown beneficiary and unknown clause
        for app in pick(apps, few):
            app["beneficiary_id"] = self._uscc("91")  # valid code, never registered here
        for app in pick(apps, max(1, few // 2)):
            app["clause_code"] = rng.choice(["M13-1", "M02-9"])
        # invalid identifiers
        apps_by_beneficiary: dict[str, list[dict[str, str]]] = {}
        for app in apps:
            apps_by_beneficiary.setdefault(app["beneficiary_id"], []).append(app)
        for beneficiary in pick(self.beneficiaries, max(2, round(len(self.beneficiaries) * 0.01))):
            old = beneficiary["beneficiary_id"]
            new = old[:-1] + ("0" if old[-1] != "0" else "1")
            for app in apps_by_beneficiary.get(old, []):
                app["beneficiary_id"] = new
            beneficiary["beneficiary_id"] = new

        disb = self.disbursements
        few_d = max(2, round(len(disb) * 0.004))
        by_app = {a["application_id"]: a for a in apps}
        # overpaid: an extra payment beyond the approval
        for row in pick([d for d in disb if d["kind"] == "payment"], few_d):
            extra = dict(
                row,
                disbursement_id=row["disbursement_id"] + "X",
                voucher_no=row["voucher_no"] + "X",
                amount=_yuan(Decimal(row["amount"]) * Decimal("0.3") + 1000),
            )
            disb.append(extra)
        # paid without approval
        for app in pick(not_approved, few_d):
            disb.append(self._extra_payment(app, date.fromisoformat(app["applied_on"]) + timedelta(days=60)))
        # paid before approved
        for row in pick(disb, few_d):
            app = by_app.get(row["application_id"])
            if app and app["approved_on"]:
                row["paid_on"] = (
                    date.fromisoformat(app["approved_on"]) - timedelta(days=rng.randrange(1, 20))
                ).isoformat()
        # paying bureau not responsible
        for row in pick(disb, few_d):
            app = by_app.get(row["application_id"])
            if app and app["clause_code"][:3] in MEASURE_BUREAUS:
                row["paying_bureau"] = rng.choice(
                    [b for b in ALL_BUREAUS if b not in MEASURE_BUREAUS[app["clause_code"][:3]]]
                )
        # disbursement of an unknown application
        for row in pick(disb, max(1, few_d // 2)):
            row["application_id"] = "SQ2099" + row["application_id"][-7:]

        # unreadable values, exact duplicates and conflicting versions
        self._corrupt(
            apps,
            few,
            [
                ("applied_on", ["2025-02-30", "2025-00-10", "三月一日"]),
                ("approved_amount", ["十万元", "-50000.00", "待定", "12.345"]),
                ("status", ["approve", "ok"]),
                ("award_year", ["二〇二五", "25.0"]),
            ],
        )
        self._corrupt(
            disb,
            few_d,
            [
                ("paid_on", ["2026-13-01", "2026-01-32"]),
                ("amount", ["-1200.00", "abc", "0"]),
                ("kind", ["refund"]),
            ],
        )
        self._corrupt(
            self.beneficiaries,
            1,
            [
                ("beneficiary_type", ["company"]),
                ("registered_on", ["2020-02-30"]),
            ],
        )
        for rows, id_key in (
            (apps, "application_id"),
            (disb, "disbursement_id"),
            (self.beneficiaries, "beneficiary_id"),
        ):
            for row in pick(rows, max(1, len(rows) // 400)):
                rows.append(dict(row))  # exact copy: collapses to one
            for row in pick(rows, max(1, len(rows) // 800)):
                changed = dict(row)
                key = (
                    "district" if id_key == "beneficiary_id" else ("amount" if "amount" in row else "requested_amount")
                )
                changed[key] = "9999.00" if key != "district" else "西湖区"
                rows.append(changed)  # conflicting version: both rejected
        rng.shuffle(apps)
        rng.shuffle(disb)
        self._misplace_personal_numbers(pick)

    def _misplace_personal_numbers(self, pick) -> None:
        """Personal numbers where records should not hold them, as bureau staff write them: a person's number
        declared as a company's, a first-generation 15-digit number, a number typed into a company's name."""
        people = [
            b for b in self.by_type["person"]
            if b["id_type"] == "resident_id" and is_valid_resident_id(b["beneficiary_id"])
            and b["beneficiary_id"][6:8] == "19"
        ]  # fmt: skip
        if len(people) < 3 or not self.by_type["enterprise"]:
            return  # a sample too small to hold them (a --scale far below 1)
        declared, legacy, named = pick(people, 3)
        declared["id_type"] = "uscc"
        # the applications keep the 18-digit number: the warehouse must know it is the same person
        legacy["beneficiary_id"] = legacy["beneficiary_id"][:6] + legacy["beneficiary_id"][8:17]
        company = pick(self.by_type["enterprise"], 1)[0]
        company["beneficiary_name"] += f"（经办人身份证{named['beneficiary_id']}）"

    def _corrupt(self, rows: list[dict[str, str]], n: int, problems: list[tuple[str, list[str]]]) -> None:
        for column, values in problems:
            for row in self.rng.sample(rows, min(n, len(rows))):
                row[column] = self.rng.choice(values)

    def _extra_app(self, beneficiary_id: str, clause: str, bureau: str, amount: str) -> dict[str, str]:
        number = len(self.applications) + 1
        applied = date(2026, 3, 1) + timedelta(days=self.rng.randrange(0, 200))
        record = dict.fromkeys(APPLICATIONS.columns, "")
        record |= {
            "application_id": f"SQ2026{self.tag}{9000000 + number:07d}",
            "beneficiary_id": beneficiary_id,
            "clause_code": clause,
            "award_year": "2026",
            "applied_on": applied.isoformat(),
            "status": "approved",
            "requested_amount": amount,
            "approved_amount": amount,
            "approved_on": (applied + timedelta(days=30)).isoformat(),
            "approving_bureau": bureau,
        }
        return record

    def _extra_payment(self, app: dict[str, str], paid_on: date) -> dict[str, str]:
        number = len(self.disbursements) + 1
        return {
            "disbursement_id": f"BF9{self.tag}{number:07d}",
            "application_id": app["application_id"],
            "paid_on": paid_on.isoformat(),
            "amount": app["requested_amount"] or "100000.00",
            "kind": "payment",
            "paying_bureau": rng_bureau(self.rng, app["clause_code"]),
            "voucher_no": f"PZ{paid_on:%Y%m}9{self.tag}{number:06d}",
        }


def rng_bureau(rng: random.Random, clause_code: str) -> str:
    return rng.choice(MEASURE_BUREAUS.get(clause_code[:3], ALL_BUREAUS))


def sample_records(
    seed: int, scale: float, problems: bool = True, shard: int = 0, taken: Taken | None = None
) -> SampleWriter:
    """The sample's records (of one shard), in memory: the same for the same seed and scale. Without
    `problems`, every record follows the policy (a baseline an audit passes)."""
    writer = SampleWriter(seed, scale, problems, shard, taken)
    writer.make_beneficiaries()
    writer.make_applications()
    writer.make_disbursements()
    if problems:
        writer.inject_problems()
    return writer


SHARD_SCALE = 20  # ≈ 100,000 applications: a large sample is written shard by shard, in bounded memory
# Raw CSV bytes per unit of --scale, measured: 1.12 MB at scale 2, 1.20 MB at 200 (239 MB), 1.20 MB at 2000 (2.41 GB).
CSV_BYTES_PER_SCALE = 1_250_000
# --messy builds the whole sample in memory before it writes the bureau files: 266 MB at scale 20, growing with the
# scale (some 2.7 GB at 200 by that measure, and a 10M sample would not fit this 24 GB machine).
MAX_MESSY_SCALE = 200


def check_scale(scale: float, out: Path, messy: bool = False) -> None:
    """Refuse, before anything is written, a --scale that cannot be generated: not a finite number, more raw files
    than the disk under `out` has room for, or (--messy) more than MAX_MESSY_SCALE."""
    if not math.isfinite(scale):
        raise UserFacingError(f"--scale must be a finite number (got {scale}); 1 ≈ 5,000 applications, 200 ≈ 1M.")
    if messy and scale > MAX_MESSY_SCALE:
        raise UserFacingError(
            f"--messy writes bureau files from a sample held in memory: at most --scale {MAX_MESSY_SCALE} (about a "
            f"million applications; got {scale:g}). Generate larger samples as plain CSV, without --messy."
        )
    absolute = out.resolve()
    folder = next(p for p in (absolute, *absolute.parents) if p.exists())
    free = shutil.disk_usage(folder).free
    needed = scale * CSV_BYTES_PER_SCALE
    if needed > free:
        raise UserFacingError(
            f"--scale {scale:g} would write about {needed / 1e9:,.1f} GB of raw files, and {folder} has "
            f"{free / 1e9:,.1f} GB free."
        )


def generate_sample(out: Path, seed: int = 20250101, scale: float = 1.0, problems: bool = True) -> dict[str, int]:
    """Write beneficiaries.csv, applications.csv and disbursements.csv into `out`; return row counts.

    Up to scale 20 the sample is one shard; above, ceil(scale / 20) shards of equal size, each generated,
    written and dropped in turn (the memory of one shard, whatever the scale)."""
    output_folder(out, "the sample")
    shards = max(1, math.ceil(scale / SHARD_SCALE))
    taken = Taken()
    counts = dict.fromkeys((BENEFICIARIES.entity, APPLICATIONS.entity, DISBURSEMENTS.entity), 0)
    # Exercise the contract: a BOM (saved from Excel), columns in another order, an extra column.
    layouts = {
        BENEFICIARIES.entity: (list(BENEFICIARIES.columns), "utf-8-sig"),
        APPLICATIONS.entity: ([*APPLICATIONS.columns, "remark"], "utf-8"),
        DISBURSEMENTS.entity: (list(reversed(DISBURSEMENTS.columns)), "utf-8"),
    }
    with contextlib.ExitStack() as files:
        writers = {}
        for entity, (columns, encoding) in layouts.items():
            handle = files.enter_context((out / f"{entity}.csv").open("w", encoding=encoding, newline=""))
            writers[entity] = (csv.writer(handle, lineterminator="\n"), columns)
            writers[entity][0].writerow(columns)
        for shard in range(shards):
            progress.current().step(f"生成分片 shard {shard + 1}/{shards}")
            records = sample_records(seed, scale / shards, problems, shard, taken)
            for entity, rows in (
                (BENEFICIARIES.entity, records.beneficiaries),
                (APPLICATIONS.entity, records.applications),
                (DISBURSEMENTS.entity, records.disbursements),
            ):
                writer, columns = writers[entity]
                writer.writerows([row.get(c, "") for c in columns] for row in rows)
                counts[entity] += len(rows)
                progress.current().rows(f"{entity}.csv", len(rows))
        if problems:
            files.close()
            with (out / DISBURSEMENTS.file_name).open("a", encoding="utf-8") as handle:
                handle.write("BF-BROKEN,SQ2025,only three fields\n")  # a ragged row: goes to the rejects
            counts[DISBURSEMENTS.entity] += 1
    return counts
