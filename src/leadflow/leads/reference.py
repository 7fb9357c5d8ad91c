"""Reference data: China's provincial divisions by sales region, default channels and
industries, and the default channel code (pinyin initials)."""

import re
from collections.abc import Collection

from pypinyin import Style, lazy_pinyin

# (GB/T 2260 code, full name, short name, region)
PROVINCES: list[tuple[str, str, str, str]] = [
    ("11", "北京市", "北京", "华北"),
    ("12", "天津市", "天津", "华北"),
    ("13", "河北省", "河北", "华北"),
    ("14", "山西省", "山西", "华北"),
    ("15", "内蒙古自治区", "内蒙古", "华北"),
    ("21", "辽宁省", "辽宁", "东北"),
    ("22", "吉林省", "吉林", "东北"),
    ("23", "黑龙江省", "黑龙江", "东北"),
    ("31", "上海市", "上海", "华东"),
    ("32", "江苏省", "江苏", "华东"),
    ("33", "浙江省", "浙江", "华东"),
    ("34", "安徽省", "安徽", "华东"),
    ("35", "福建省", "福建", "华东"),
    ("36", "江西省", "江西", "华东"),
    ("37", "山东省", "山东", "华东"),
    ("41", "河南省", "河南", "华中"),
    ("42", "湖北省", "湖北", "华中"),
    ("43", "湖南省", "湖南", "华中"),
    ("44", "广东省", "广东", "华南"),
    ("45", "广西壮族自治区", "广西", "华南"),
    ("46", "海南省", "海南", "华南"),
    ("50", "重庆市", "重庆", "西南"),
    ("51", "四川省", "四川", "西南"),
    ("52", "贵州省", "贵州", "西南"),
    ("53", "云南省", "云南", "西南"),
    ("54", "西藏自治区", "西藏", "西南"),
    ("61", "陕西省", "陕西", "西北"),
    ("62", "甘肃省", "甘肃", "西北"),
    ("63", "青海省", "青海", "西北"),
    ("64", "宁夏回族自治区", "宁夏", "西北"),
    ("65", "新疆维吾尔自治区", "新疆", "西北"),
    ("71", "台湾省", "台湾", "华东"),
    ("81", "香港特别行政区", "香港", "华南"),
    ("82", "澳门特别行政区", "澳门", "华南"),
]

# The seed manual's channels (R1.1), with a category and a sub-channel or two as examples.
DEFAULT_CHANNELS: list[tuple[str, str, list[str]]] = [
    ("官网注册", "online", ["产品页", "免费试用"]),
    ("行业展会", "offline", ["2023年行业展"]),
    ("客户推荐", "internal", ["老客户"]),
    ("市场活动", "offline", ["城市沙龙"]),
    ("合作伙伴转介绍", "internal", []),
    ("搜索引擎推广", "online", ["百度"]),
    ("社交媒体", "online", ["微信公众号", "抖音"]),
    ("电商平台咨询", "online", []),
    ("内容营销(白皮书/webinar)", "online", ["白皮书", "webinar"]),
    ("地推活动", "offline", []),
    ("老客户复购", "internal", []),
]

# (name, is_target)
DEFAULT_INDUSTRIES: list[tuple[str, bool]] = [
    ("制造业", True),
    ("零售业", True),
    ("教育", True),
    ("医疗健康", True),
    ("金融", True),
    ("互联网", True),
    ("物流", True),
    ("房地产", True),
    ("能源", True),
    ("政府与公共事业", True),
    ("餐饮", False),
    ("个人/其他", False),
]


def pinyin_initials(name: str) -> str:
    """官网注册 → GWZC; Latin letters and digits kept, punctuation dropped."""
    letters = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    return re.sub(r"[^A-Z0-9]", "", "".join(letters).upper())


def default_channel_code(name: str, taken: Collection[str]) -> str:
    """The shortest unused prefix of the pinyin initials: 官网 → G, then GW, …, then G2, G3…"""
    initials = pinyin_initials(name) or "X"
    for length in range(1, len(initials) + 1):
        candidate = initials[:length]
        if candidate not in taken:
            return candidate
    serial = 2
    while f"{initials[:1]}{serial}" in taken:
        serial += 1
    return f"{initials[:1]}{serial}"
