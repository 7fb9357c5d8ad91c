"""Demo data for `leadflow demo`: three regional teams, a dozen reps, a manager per team,
sales support, marketing and an admin, and about 2,000 leads over the last six months in
every status, entered through the real intake door and moved through the real pipeline.

Deterministic (seeded): the same command gives the same data relative to `now`.
"""

import functools
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from leadflow.accounts.models import RepProfile, Role, Team, User
from leadflow.assignment.models import AssignmentRule
from leadflow.assignment.pool import return_due, return_to_pool
from leadflow.assignment.services import accept, decline, expire_due
from leadflow.followups.services import (
    Contact,
    Move,
    move_stage,
    record_event,
    record_followup,
    set_grade,
)
from leadflow.followups.sweeps import sweep as sweep_followups
from leadflow.intake.services import approve_lead, return_lead, submit_lead
from leadflow.leads.models import Channel, Industry, Lead, Status
from leadflow.notifications.models import Notification

PASSWORD = "leadflow"

TEAMS = [
    (
        "华北销售一组",
        "华北",
        ("zhaolei", "赵磊"),
        [("liqiang", "李强"), ("wangfang", "王芳"), ("zhangwei", "张伟"), ("liuyang", "刘洋")],
    ),
    (
        "华东销售一组",
        "华东",
        ("chenjing", "陈静"),
        [("yangmin", "杨敏"), ("zhoujie", "周杰"), ("wuxia", "吴霞"), ("xuhao", "徐浩")],
    ),
    (
        "华南销售一组",
        "华南",
        ("huangwei", "黄伟"),
        [("linna", "林娜"), ("hejun", "何军"), ("guoli", "郭丽"), ("luotao", "罗涛")],
    ),
]
STAFF = [
    ("admin", "系统管理员", Role.ADMIN),
    ("support", "孙悦（销售支持）", Role.SUPPORT),
    ("marketing", "马琳（市场）", Role.MARKETING),
]

CITIES = [
    "北京",
    "天津",
    "石家庄",
    "太原",
    "上海",
    "苏州",
    "杭州",
    "南京",
    "宁波",
    "合肥",
    "济南",
    "青岛",
    "福州",
    "厦门",
    "广州",
    "深圳",
    "东莞",
    "佛山",
    "南宁",
    "海口",
    "武汉",
    "长沙",
    "郑州",
    "成都",
    "重庆",
    "昆明",
    "西安",
    "兰州",
    "沈阳",
    "大连",
    "长春",
    "哈尔滨",
]
BRAND_CHARS = "恒瑞华信博远中星河丰鼎盛海纳众诚天成金桥宏达新元卓越锦程安泰弘毅凯德润和汇通明远景同创嘉禾正晟智联云帆青松蓝德鑫"
TRADES = {
    "制造业": ["精密机械", "电子", "汽车零部件", "新材料", "智能装备"],
    "零售业": ["商贸", "连锁超市", "百货", "电器"],
    "教育": ["教育科技", "培训学校", "职业技术学院"],
    "医疗健康": ["医疗器械", "医药", "健康管理"],
    "金融": ["融资租赁", "资产管理", "保险代理"],
    "互联网": ["网络科技", "信息技术", "软件"],
    "物流": ["物流", "供应链管理", "冷链运输"],
    "房地产": ["置业", "物业服务", "地产开发"],
    "能源": ["新能源", "电力工程", "燃气"],
    "政府与公共事业": ["水务", "公共交通", "城市建设投资"],
    "餐饮": ["餐饮管理"],
}
SUFFIXES = ["有限公司", "股份有限公司", "集团有限公司", "有限责任公司"]
NEEDS = [
    ("采购设备，用于新厂房产线自动化改造", True),
    ("寻求一体化解决方案，替换现有ERP系统", True),
    ("需要CRM系统，销售团队约50人", True),
    ("计划采购数据分析平台，预算已批", True),
    ("升级门店收银与会员系统，覆盖30家门店", True),
    ("招标：智慧校园平台建设，500名学生，公办", True),
    ("需要方案报价，对比3家供应商", True),
    ("了解一下产品功能和价格", False),
    ("先了解，明年可能有预算", False),
    ("咨询私有化部署的可行性", False),
    ("索取白皮书和行业案例资料", False),
    ("想看看同行的使用案例", False),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "晓东",
    "海燕",
    "志强",
    "建华",
    "丽娟",
    "文博",
    "思远",
    "雨萱",
    "子涵",
    "浩然",
]
MOBILE_PREFIXES = [
    "139",
    "138",
    "137",
    "136",
    "135",
    "158",
    "159",
    "188",
    "186",
    "185",
    "177",
    "189",
    "133",
    "150",
    "152",
    "187",
]
INVALID_REASONS = [
    ("need_mismatch", "客户要的是租赁服务"),
    ("unreachable", "连续三次电话未接，微信未通过"),
    ("no_budget", "预算只有报价的两成"),
    ("chose_competitor", "已与其他供应商签约"),
    ("duplicate", "与已有客户重复"),
]
METHODS = ["phone", "phone", "wechat", "wechat", "email", "visit", "meeting"]
FEEDBACK = [
    "客户对方案感兴趣，希望看同行业案例",
    "决策人下周出差，约定月底再沟通",
    "客户关心交付周期和售后响应时间",
    "已发送产品资料，客户在内部讨论",
    "客户认为价格偏高，希望有阶梯报价",
    "演示顺利，客户技术负责人认可",
]
INTENTS = ["从观望转为对比3家供应商", "由比价转为重点考虑我方", "意向减弱，预算待批"]
NEED_CHANGES = ["预算 5万→8万", "采购数量由10台增至20台", "交付时间提前到下月"]
COMPETITORS = ["汇川", "西门子", "本地代理商", "某某科技"]
NEXT_ACTIONS = ["发送报价单", "安排产品演示", "提供同行业案例", "约决策人面谈", "回访确认需求"]
GRADE_REASONS = {
    "A": "预算明确，1个月内确定供应商",
    "B": "有需求，预算与时间待确认",
    "C": "仅咨询，长期潜在需求",
}
BEHAVIOUR = [
    "浏览 /pricing 价格页",
    "下载《行业白皮书》",
    "在官网留言询问交付周期",
    "参加线上产品发布会",
]
DECLINE_REASONS = ["区域冲突，客户在外省", "本周工作量已满", "与现有客户存在利益冲突"]
RETURN_REASONS = [
    "手机号与联系人不符，请核实",
    "客户名称不完整，请补全工商全称",
    "需求描述过于笼统",
]


@dataclass
class People:
    support: User
    reps_by_region: dict[str, list[User]]
    managers: dict[str, User]


def build(*, leads: int = 2000, now: datetime | None = None, seed: int = 2026) -> dict[str, int]:
    now = now or timezone.now()
    rng = random.Random(seed)
    with transaction.atomic():
        people = _people()
        made = _leads(rng, people, leads, now)
        _settle(now)
    return made


def _settle(now: datetime) -> None:
    """Bring the history up to `now` as the sweeper would (lapsed confirmations, neglected
    leads to the pool), and keep the messages of that history from being sent out: they
    stay in each user's in-app list, read unless from the last two days."""
    expire_due(now)
    return_due(now)
    sweep_followups(now)  # reminders, overdue notices and escalations due by now
    Notification.objects.exclude(state=Notification.State.SENT).update(
        state=Notification.State.SENT, sent_at=now, next_attempt_at=None
    )
    Notification.objects.filter(created_at__lt=now - timedelta(days=2)).update(read_at=now)


def logins() -> list[tuple[str, str, str]]:
    rows = [(u, name, str(role.label)) for u, name, role in STAFF]
    for _team, _region, (mu, mname), reps in TEAMS:
        rows.append((mu, mname, str(Role.MANAGER.label)))
        rows += [(ru, rname, str(Role.REP.label)) for ru, rname in reps]
    return rows


@functools.cache
def _demo_password() -> str:
    return make_password(PASSWORD)


def _user(username: str, name: str, role: str, team: Team | None = None) -> User:
    user, created = User.objects.get_or_create(
        username=username, defaults={"display_name": name, "email": f"{username}@demo.leadflow"}
    )
    if created:  # one hash for every demo login: each costs ~0.5 s of PBKDF2 on purpose
        user.password = _demo_password()
    user.team = team or user.team
    if role == Role.ADMIN:
        user.is_staff = user.is_superuser = True
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def _people() -> People:
    staff = {role: _user(u, n, role) for u, n, role in STAFF}
    reps_by_region, managers = {}, {}
    industries = list(Industry.objects.filter(is_target=True))
    for index, (team_name, region, (mu, mname), reps) in enumerate(TEAMS):
        team, _ = Team.objects.get_or_create(name=team_name, defaults={"region": region})
        manager = _user(mu, mname, Role.MANAGER, team)
        team.manager = manager
        team.save()
        managers[region] = manager
        members = []
        for n, (ru, rname) in enumerate(reps):
            rep = _user(ru, rname, Role.REP, team)
            profile, _ = RepProfile.objects.get_or_create(
                user=rep,
                defaults={
                    "regions": [region],
                    "grades": ["A", "B", "C"][: 2 + n % 2],
                    "capacity": 200,
                },
            )
            profile.industries.set(industries[(index + n) % 3 :: 3])
            members.append(rep)
        reps_by_region[region] = members
        AssignmentRule.objects.get_or_create(
            name=f"{region}线索归{team_name}",
            defaults={"order": 10 * (index + 1), "regions": [region], "team": team},
        )
    return People(staff[Role.SUPPORT], reps_by_region, managers)


def _company(rng: random.Random, industry: str) -> str:
    trade = rng.choice(TRADES.get(industry, ["科技"]))
    brand = "".join(rng.sample(BRAND_CHARS, 2))
    return f"{rng.choice(CITIES)}{brand}{trade}{rng.choice(SUFFIXES)}"


def _phone(rng: random.Random) -> str:
    while True:
        digits = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if len(set(digits[3:])) >= 4:
            return digits


def _leads(rng: random.Random, people: People, count: int, now: datetime) -> dict[str, int]:
    channels = list(Channel.objects.filter(active=True).select_related("parent"))
    industries = list(Industry.objects.all())
    weights = [0.3 if i.is_target else 0.02 for i in industries]
    made = {"created": 0, "repeats": 0}
    previous: list[dict] = []
    for n in range(count):
        age = timedelta(days=180) * (1 - (n / count)) ** 1.2 + timedelta(minutes=rng.randrange(60))
        acquired = now - age
        if previous and rng.random() < 0.03:
            data = dict(rng.choice(previous), acquired_at=acquired.isoformat())
        else:
            industry = rng.choices(industries, weights)[0]
            need, concrete = rng.choice(NEEDS)
            data = {
                "channel": rng.choice(channels).code,
                "company_name": _company(rng, industry.name),
                "contact_name": rng.choice(SURNAMES) + rng.choice(GIVEN),
                "phone": _phone(rng) if rng.random() < 0.97 else "13800000000",
                "email": f"contact{n}@example{n % 97}.cn" if rng.random() < 0.5 else "",
                "industry": industry.name,
                "need": need,
                "acquired_at": acquired.isoformat(),
            }
            if concrete and rng.random() < 0.6:
                budget = Decimal(rng.choice([30, 50, 80, 120, 200, 500])) * 10000
                data["budget_max"] = str(budget)
                data["purchase_by"] = (
                    (acquired + timedelta(days=rng.choice([10, 25, 45, 90]))).date().isoformat()
                )
            previous.append(data)
        creator = (
            people.support
            if rng.random() < 0.7
            else rng.choice([r for reps in people.reps_by_region.values() for r in reps])
        )
        result = submit_lead(data=data, by=creator, source="demo", now=acquired)
        if not result.created:
            made["repeats"] += 1
            continue
        made["created"] += 1
        _progress(rng, people, result.lead, acquired, now)
    return made


def _progress(rng: random.Random, people: People, lead: Lead, t: datetime, now: datetime) -> None:
    """Move a fresh lead along the pipeline as far as its age and luck allow, through the
    same services the screens use: approval assigns it at once, the rep accepts (or
    declines), records contacts (some late, some with a next action), grades it after the
    first contact and moves it on evidence — or lets it slip into the pool."""
    age_days = (now - t).days

    def later(hours: float) -> datetime:
        nonlocal t
        t = t + timedelta(hours=hours)
        if t >= now:
            raise _Stop
        return t

    def contact(at: datetime) -> None:
        typed = min(at + timedelta(minutes=rng.choice([5, 20, 40, 50, 90, 180])), now)
        action = rng.random() < 0.35
        record_followup(
            lead=lead,
            by=lead.owner,
            now=typed,
            contact=Contact(
                contact_at=at,
                method=rng.choice(METHODS),
                feedback=rng.choice(FEEDBACK),
                intent_change=rng.choice(INTENTS) if rng.random() < 0.3 else "",
                need_change=rng.choice(NEED_CHANGES) if rng.random() < 0.2 else "",
                competitor=rng.choice(COMPETITORS) if rng.random() < 0.15 else "",
                risk_note="客户同时在比较其他供应商" if rng.random() < 0.1 else "",
                next_action=rng.choice(NEXT_ACTIONS) if action else "",
                next_action_due=typed + timedelta(days=rng.randint(1, 4)) if action else None,
            ),
        )

    def step(to, hours, **evidence):
        contact(later(hours))
        move_stage(lead=lead, by=lead.owner, move=Move(to=to, **evidence), now=t)

    try:
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 3)):
                record_event(
                    lead=lead,
                    kind=rng.choice(["page_view", "download", "inquiry", "event_attended"]),
                    at=t - timedelta(days=rng.uniform(0, 10)),
                    detail=rng.choice(BEHAVIOUR),
                    source="官网",
                    payload={},
                    by=None,
                    now=t,
                )
        if lead.status == Status.PENDING_REVIEW:
            if age_days < 1 and rng.random() < 0.6:
                return
            later(rng.uniform(0.5, 8))
            if rng.random() < 0.04:
                return_lead(lead=lead, by=people.support, now=t, reason=rng.choice(RETURN_REASONS))
                return
            approve_lead(lead=lead, by=people.support, now=t)  # assigned at once (R2.2)
            lead.refresh_from_db()
        if lead.status != Status.ASSIGNED or (age_days < 1 and rng.random() < 0.5):
            return  # nobody could take it, or still awaiting confirmation
        if rng.random() < 0.05:
            decline(
                lead=lead,
                rep=lead.owner,
                now=later(rng.uniform(0.1, 1.8)),
                reason=rng.choice(DECLINE_REASONS),
            )
            lead.refresh_from_db()
            if lead.status != Status.ASSIGNED:
                return
        accept(lead=lead, rep=lead.owner, now=later(rng.uniform(0.05, 20)))
        lead.refresh_from_db()
        contact(later(rng.uniform(0.5, 30)))  # the first contact (R3.2)
        if rng.random() < 0.7:  # graded after it (R3.4): mostly confirmed, sometimes changed
            grade = lead.grade if rng.random() < 0.75 else rng.choice("ABC")
            set_grade(lead=lead, by=lead.owner, grade=grade, reason=GRADE_REASONS[grade], now=t)
        path = [
            (Status.QUALIFIED, 0.55),
            (Status.EVALUATING, 0.6),
            (Status.NEGOTIATING, 0.65),
            (Status.WON, 0.55),
        ]
        for to, p in path:
            if rng.random() > p:
                fate = rng.random()
                if fate < 0.45 and age_days > 20:
                    code, note = rng.choice(INVALID_REASONS)
                    step(Status.INVALID, rng.uniform(24, 24 * 20), invalid_reason=code, reason=note)
                elif fate < 0.65 and age_days > 30:
                    return_to_pool(lead, now=later(24 * 14), by=None, reason="超时未跟进")
                else:  # still being worked: most reps kept in touch, some did not
                    keeps_up = rng.random() < 0.8
                    last = now - timedelta(days=rng.uniform(0, 6 if keeps_up else 40))
                    if last > t:
                        contact(last)
                return
            if to == Status.WON:
                amount = Decimal(rng.randrange(5, 120)) * 10000
                hours = rng.uniform(24, 24 * 25)
                step(to, hours, won_amount=amount, won_at=t + timedelta(hours=hours))
            else:
                step(to, rng.uniform(24, 24 * 15), need=lead.need)
    except _Stop:
        return


class _Stop(Exception):
    pass
