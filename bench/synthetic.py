"""Deterministic synthetic firms and events at a chosen scale, with the national mix.

What a national or provincial run looks like, for benchmarks and scale tests (never for lists):

* firms: the ``firms`` contract; valid USCCs (the same codes :func:`registry.core.uscc.make_uscc`
  gives for the firm's division and serial) spread over real GB/T 2260 division codes, with
  real GB/T 4754 industry codes;
* events: the ``events`` contract, exactly ``events`` rows, with histories per firm: 高企 granted
  on real batch dates and renewed every three years, lapses (``expired``), re-certification
  (``granted`` again after a lapse), revocations, source retractions, 升规 year-ends (and a few
  drop-outs), the 梯度 tiers (创新型 -> 省专精特新 -> 小巨人, each renewed or lapsing),
  单项冠军, technology/design centres, 5G factories, the provincial 小巨人 grants that
  percent-of-grant clauses read, and annual reports filling the rest;
* a night: ``night_events`` new facts effective and published on the day after ``as_of``,
  for an incremental-night benchmark;
* one published-list form: the 高新技术企业 认定名单 of the latest year's batches, as the agency
  publishes it (序号, 企业名称, 统一社会信用代码, 证书编号, 发证日期, 认定类型; GB18030, as saved
  from Excel), the layout the `hitech` source spec (sources/hitech/source.yml) reads.

The mix: at 1,000,000 firms it reproduces the national counts (about 50万 高企, 14万 专精特新中小企业,
1.46万 小巨人, 49万 规上); at other sizes the same shares. The registry tracks firms with at
least one event, so "firms" here is that population, not the 5000万 registered enterprises. The
three cities of the policy catalog (福州, 厦门, 杭州) are over-weighted (``catalog_share``, 20% of
firms by default, against about 3% nationally) so that the entitlement models have work to do.

Everything is generated inside DuckDB (no Python loop per row); 5M events take well under a
minute on two cores. Randomness is DuckDB's ``hash(seed, id, salt)``: the same seed, sizes and
DuckDB version give byte-identical files (duckdb is pinned in uv.lock).

Command line::

    .venv/bin/python -m bench.synthetic --firms 100000 --events 500000 --out var/bench/s100k
"""

# ruff: noqa: S608  -- SQL here is assembled from module constants and integers; paths are quoted
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from registry.core import contracts
from registry.core.uscc import CHARSET

__all__ = ["DIVISIONS", "INDUSTRIES", "MIX", "Generated", "generate"]

DEFAULT_SEED = 20261101
DEFAULT_AS_OF = dt.date(2026, 11, 1)

# Shares of the tracked firms that ever held each designation (national counts / 1,000,000).
MIX: dict[str, float] = {
    "hitech": 0.50,  # 约50万家高新技术企业
    "scale_up": 0.49,  # 约49万家规上工业企业
    "srdi_provincial": 0.14,  # 约14万家专精特新中小企业
    "little_giant": 0.0146,  # 约1.46万家专精特新“小巨人”企业 (a subset of the above)
    "innovative_sme": 0.15,  # 创新型中小企业 (most 专精特新 firms passed through it)
    "single_champion_national": 0.0016,
    "single_champion_provincial": 0.004,
    "tech_center": 0.012,
    "design_center": 0.006,
    "5g_factory": 0.003,
    "master_only": 0.05,  # master data without any event of ours yet
}

# Real GB/T 2260 county-level codes: (code, short city name used in firm names, weight). Weights
# follow rough provincial shares of 高企; the catalog's three cities are scaled up separately.
DIVISIONS: tuple[tuple[str, str, float], ...] = (
    ("110101", "北京", 1.0), ("110102", "北京", 1.0), ("110105", "北京", 1.5), ("110106", "北京", 0.8),
    ("110108", "北京", 2.5), ("110114", "北京", 0.8), ("110115", "北京", 0.8),
    ("120104", "天津", 0.6), ("120116", "天津", 1.2),
    ("130102", "石家庄", 0.8), ("130104", "石家庄", 0.6), ("130602", "保定", 0.8),
    ("140105", "太原", 0.8), ("150102", "呼和浩特", 0.4), ("210102", "沈阳", 0.8), ("210211", "大连", 0.8),
    ("220102", "长春", 0.6), ("230102", "哈尔滨", 0.6),
    ("310101", "上海", 0.8), ("310104", "上海", 1.0), ("310112", "上海", 1.2), ("310115", "上海", 2.0),
    ("310117", "上海", 0.8),
    ("320102", "南京", 1.0), ("320115", "南京", 1.2), ("320505", "苏州", 1.5), ("320506", "苏州", 1.2),
    ("320211", "无锡", 1.2), ("320412", "常州", 1.2),
    ("330212", "宁波", 1.5), ("330302", "温州", 1.0),
    ("340104", "合肥", 1.0), ("340111", "合肥", 0.8),
    ("350503", "泉州", 0.6), ("350582", "晋江", 0.6),
    ("360102", "南昌", 0.8),
    ("370102", "济南", 1.0), ("370202", "青岛", 0.8), ("370212", "青岛", 0.8), ("370705", "潍坊", 0.8),
    ("410105", "郑州", 1.2), ("420106", "武汉", 1.0), ("420111", "武汉", 1.5), ("430104", "长沙", 1.5),
    ("440106", "广州", 2.0), ("440112", "广州", 1.2), ("440304", "深圳", 1.5), ("440305", "深圳", 2.5),
    ("440306", "深圳", 2.0), ("440307", "深圳", 1.5), ("441900", "东莞", 2.0), ("440604", "佛山", 1.5),
    ("450103", "南宁", 0.6), ("460106", "海口", 0.3), ("500112", "重庆", 1.2), ("510104", "成都", 0.8),
    ("510107", "成都", 1.2), ("520102", "贵阳", 0.5), ("530102", "昆明", 0.5), ("610113", "西安", 1.2),
    ("620102", "兰州", 0.3), ("650102", "乌鲁木齐", 0.3),
)
# The catalog's cities (policies/scopes.yml): their districts share `catalog_share` of the firms.
CATALOG_DIVISIONS: tuple[tuple[str, str, float], ...] = (
    ("350102", "福州", 1.2), ("350103", "福州", 0.8), ("350104", "福州", 1.0), ("350111", "福州", 0.8),
    ("350112", "福州", 0.6), ("350121", "福州", 0.8),
    ("350203", "厦门", 0.8), ("350205", "厦门", 0.5), ("350206", "厦门", 0.8), ("350211", "厦门", 0.5),
    ("330102", "杭州", 0.5), ("330105", "杭州", 0.5), ("330106", "杭州", 0.7), ("330108", "杭州", 1.0),
    ("330110", "杭州", 0.8),
)

# Real GB/T 4754-2017 codes: (code, name suffix, weight). Mostly manufacturing and the services
# the catalog's scopes name (软件, 科技服务, 生产性服务), plus a few outside every scope.
INDUSTRIES: tuple[tuple[str, str, float], ...] = (
    ("C3461", "热工装备有限公司", 3.0), ("C3971", "电子有限公司", 3.0), ("C2651", "新材料有限公司", 2.0),
    ("C3841", "新能源科技有限公司", 2.0), ("C2927", "塑胶制品有限公司", 1.5), ("C3311", "钢结构有限公司", 1.5),
    ("C3670", "汽车部件有限公司", 2.5), ("C3360", "表面处理有限公司", 1.0), ("C4090", "仪器仪表有限公司", 1.5),
    ("C3825", "光伏科技有限公司", 1.0), ("C2710", "制药有限公司", 1.5), ("C3990", "智能设备有限公司", 2.0),
    ("D4415", "新能源发电有限公司", 0.3),
    ("I6513", "软件有限公司", 3.0), ("I6520", "微电子设计有限公司", 1.0), ("I6531", "信息技术有限公司", 1.5),
    ("I6550", "数据科技有限公司", 1.0),
    ("M7320", "工程技术研究有限公司", 2.0), ("M7452", "检测技术有限公司", 1.0),
    ("M7491", "工业设计有限公司", 0.6), ("M7517", "科技服务有限公司", 0.6),
    ("F5179", "机电贸易有限公司", 0.8), ("G5810", "供应链管理有限公司", 0.3), ("L7212", "投资管理有限公司", 0.3),
)
BRAND_CHARS = "华创鑫瑞恒宏泰康盛达信锦博晟航海云星科智联源祥和丰润新腾嘉兴昌隆永安金汇德远中天宇光明"

# Batch dates (month, day) on which designations of each kind take effect.
BATCHES: dict[str, tuple[tuple[int, int], ...]] = {
    "hitech": ((3, 18), (10, 16), (11, 30), (12, 20)),
    "srdi_provincial": ((5, 20), (11, 25)),
    "little_giant": ((7, 15),),
    "innovative_sme": ((2, 26), (9, 20)),
    "single_champion": ((6, 16),),
    "center": ((4, 20), (8, 12)),
    "5g_factory": ((8, 26),),
}

_MAX_SERIAL = 31**6
_SLOTS = 10_000  # resolution of the weighted choices


@dataclass(frozen=True)
class Generated:
    out_dir: str
    seed: int
    as_of: str
    night: str
    firms: int
    events: int
    night_events: int
    list_rows: int
    files: dict[str, str]  # name -> sha256
    seconds: float

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=True)


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _weighted_slots(con: duckdb.DuckDBPyConnection, table: str, items: list[tuple], weight_index: int) -> None:
    """`table`(slot, c0, c1, ...): slots 0.._SLOTS-1, each item holding a share of slots by its weight."""
    total = sum(item[weight_index] for item in items)
    bounds, start = [], 0
    for n, item in enumerate(items):
        end = _SLOTS if n == len(items) - 1 else start + round(_SLOTS * item[weight_index] / total)
        bounds.append((start, end, *(str(v) for v in item)))
        start = end
    width = len(items[0])
    columns = ", ".join(f"c{i} varchar" for i in range(width))
    con.execute(f"create temp table {table}_items (lo integer, hi integer, {columns})")
    con.executemany(f"insert into {table}_items values ({', '.join('?' * (width + 2))})", bounds)
    con.execute(f"create temp table {table} as select r.slot::integer as slot, i.* exclude (lo, hi) "
                f"from range({_SLOTS}) r(slot) join {table}_items as i on r.slot >= i.lo and r.slot < i.hi")


def _uscc_sql(division: str, serial: str) -> str:
    """SQL for make_uscc(division, serial): body MA+6 tail chars, GB 11714 and GB 32100 checks."""
    tail_value = f"(({serial})::bigint * 387420489 + 123456789) % {31**6}"
    # tail character k (0 = most significant) has value (tail_value // 31**(5-k)) % 31
    digits = [f"(({tail_value}) // {31 ** (5 - k)}) % 31" for k in range(6)]
    # value of a CHARSET character in GB 11714's base-36 alphabet (A=10 ... Z=35, all letters)
    v36 = "[" + ", ".join(str(int(ch, 36)) for ch in CHARSET) + "]"
    c17_sum = " + ".join(["22 * 3", "10 * 7"] + [f"{v36}[{d} + 1] * {w}" for d, w in
                                                   zip(digits, (9, 10, 5, 8, 4, 2), strict=True)])
    c17_value = f"(11 - ({c17_sum}) % 11)"
    c17 = f"(case {c17_value} when 10 then 'X' when 11 then '0' else ({c17_value})::varchar end)"
    weights = [pow(3, i, 31) for i in range(17)]
    charset = _sql_str(CHARSET)
    # positions 1..17: '9', '1', six division digits, 'M', 'A', six tail chars, c17
    terms = [f"9 * {weights[0]}", f"1 * {weights[1]}"]
    terms += [f"(ascii(substr({division}, {i + 1}, 1)) - 48) * {weights[2 + i]}" for i in range(6)]
    terms += [f"21 * {weights[8]}", f"10 * {weights[9]}"]
    terms += [f"({d}) * {weights[10 + k]}" for k, d in enumerate(digits)]
    terms += [f"(instr({charset}, {c17}) - 1) * {weights[16]}"]
    c18_value = f"((31 - ({' + '.join(terms)}) % 31) % 31)"
    tail = " || ".join(f"substr({charset}, ({d})::integer + 1, 1)" for d in digits)
    return f"('91' || {division} || 'MA' || {tail} || {c17} || substr({charset}, {c18_value} + 1, 1))"


def _u(salt: int, key: str = "id") -> str:
    """A uniform [0, 1) draw, fixed by (seed, key, salt)."""
    return f"({_h(salt, key)} / 18446744073709551616.0)"


def _h(salt: int, key: str = "id") -> str:
    """A well-mixed UBIGINT fixed by (seed, key, salt). (DuckDB's multi-argument hash(a, b, c)
    combines its arguments too weakly: draws with different salts come out correlated.)"""
    return f"hash(xor(hash(getvariable('seed')::bigint * 1000 + {salt}), ({key})::ubigint))"


def _pick(options: tuple, draw: str) -> str:
    """SQL choosing one of `options` (SQL literals) by a uniform draw."""
    return f"([{', '.join(options)}])[least(floor({draw} * {len(options)})::integer, {len(options) - 1}) + 1]"


def _batch_date(kind: str, year: str, draw: str) -> str:
    months = tuple(str(m) for m, _ in BATCHES[kind])
    days = tuple(str(d) for _, d in BATCHES[kind])
    return (f"make_date(({year})::integer, {_pick(months, draw)}, {_pick(days, draw)})")


def _build(con: duckdb.DuckDBPyConnection, firms: int, events: int, night_events: int,
           as_of: dt.date, catalog_share: float) -> None:
    weights = [(c, n, w * (1 - catalog_share) / sum(x[2] for x in DIVISIONS)) for c, n, w in DIVISIONS]
    weights += [(c, n, w * catalog_share / sum(x[2] for x in CATALOG_DIVISIONS)) for c, n, w in CATALOG_DIVISIONS]
    _weighted_slots(con, "division_slots", weights, 2)
    _weighted_slots(con, "industry_slots", list(INDUSTRIES), 2)
    brand = _sql_str(BRAND_CHARS)
    nb = len(BRAND_CHARS)
    con.execute(f"""
        create temp table f as
        with base as (
            select
                i as id,
                floor({_u(1, 'i')} * {_SLOTS})::integer as dslot,
                floor({_u(2, 'i')} * {_SLOTS})::integer as islot,
                i as serial
            from range({firms}) t(i)
        )
        select
            b.id,
            {_uscc_sql('d.c0', 'b.serial')} as uscc,
            d.c1 || substr({brand}, ({_h(3, 'b.id')} % {nb})::integer + 1, 1)
                 || substr({brand}, ({_h(4, 'b.id')} % {nb})::integer + 1, 1)
                 || ind.c1 as firm_name,
            d.c0 as division_code,
            ind.c0 as industry_code,
            date '1995-01-01' + floor({_u(5, 'b.id')} * 10950)::integer as registered_date,
            {_u(10, 'b.id')} as u_kind
        from base as b
        join division_slots as d on d.slot = b.dslot
        join industry_slots as ind on ind.slot = b.islot
    """)
    if con.execute("select count(distinct uscc) <> count(*) from f").fetchone()[0]:  # pragma: no cover
        raise RuntimeError("synthetic USCCs collide")

    as_of_lit = f"date '{as_of.isoformat()}'"
    last_year = as_of.year
    # Designation histories in "cycles" of three years: cycle 0 grants, each next cycle renews
    # with probability `keep`; after the last cycle the designation lapses (an `expired` row
    # for some), and some firms are re-certified (granted again) a year or two later.
    streams = {
        # name: (event_type, level, share, first year, last start year, keep, batch kind)
        "hitech": ("hitech", "national", MIX["hitech"], 2008, last_year, 0.72, "hitech"),
        "srdi": ("srdi_provincial", "provincial", MIX["srdi_provincial"], 2019, last_year, 0.75,
                 "srdi_provincial"),
        "innov": ("innovative_sme", "provincial", MIX["innovative_sme"], 2022, last_year, 0.70, "innovative_sme"),
        "giant": ("little_giant", "national", MIX["little_giant"], 2019, last_year, 0.80, "little_giant"),
        "champ_n": ("single_champion", "national", MIX["single_champion_national"], 2016, last_year, 0.85,
                    "single_champion"),
        "champ_p": ("single_champion", "provincial", MIX["single_champion_provincial"], 2018, last_year, 0.8,
                    "single_champion"),
    }
    # The share of firms holding each stream is taken from disjoint-ish bands of independent draws.
    parts = []
    for salt, (name, (etype, level, share, y0, y1, keep, batch)) in enumerate(streams.items(), start=20):
        if name == "giant":
            holder = f"{_u(salt, 'f.id')} < {share / MIX['srdi_provincial']} and {_u(21, 'f.id')} < " \
                     f"{MIX['srdi_provincial']}"
        else:
            holder = f"{_u(salt, 'f.id')} < {share}"
        span = y1 - y0 + 1
        parts.append(f"""
        select f.id, f.uscc, f.firm_name, '{etype}' as event_type, '{level}' as level, '{name}' as stream,
               {y0} + floor({_u(salt + 100, 'f.id')} * {span})::integer as start_year,
               least(floor(ln(greatest({_u(salt + 200, 'f.id')}, 1e-12)) / ln({keep}))::integer, 12) as cycles,
               {_u(salt + 300, 'f.id')} as u_end,
               {_u(salt + 400, 'f.id')} as u_batch,
               '{batch}' as batch
        from f where {holder} and f.u_kind >= {MIX['master_only']}""")
    con.execute("create temp table holders as " + " union all ".join(parts))

    def batch_case(year: str) -> str:
        return "case batch " + " ".join(f"when '{b}' then {_batch_date(b, year, 'u_batch')}" for b in BATCHES) + " end"

    doc_prefix = {"hitech": "国科火字", "srdi_provincial": "省工信中小", "innovative_sme": "省工信中小",
                  "little_giant": "工信部企业函", "single_champion": "工信部产业"}
    doc_case = "case event_type " + " ".join(f"when '{k}' then '{v}'" for k, v in doc_prefix.items()) \
        + " else '认定文件' end"
    con.execute(f"""
        create temp table designation_events as
        with cycles as (
            select h.*, k, start_year + 3 * k as y
            from holders as h, range(0, 13) r(k)
            where k <= h.cycles
        ),
        dated as (
            select
                id, uscc, firm_name, event_type, level, stream, k,
                case when k = 0 then 'granted' else 'renewed' end as action,
                {batch_case('y')} as effective_date
            from cycles
        ),
        ends as (
            -- after the last cycle: lapse recorded as `expired` (60%), or revoked mid-spell (4%),
            -- then re-certification (granted again) for some (30%)
            select id, uscc, firm_name, event_type, level, stream, cycles + 1 as k,
                   case when u_end < 0.04 then 'revoked' when u_end < 0.64 then 'expired' end as action,
                   case when u_end < 0.04
                        then {batch_case('start_year + 3 * cycles')} + 30 + floor(u_end * 25 * 1000)::integer
                        else {batch_case('start_year + 3 * (cycles + 1)')} end as effective_date
            from holders
            where u_end < 0.64
            union all
            select id, uscc, firm_name, event_type, level, stream, cycles + 2 as k, 'granted' as action,
                   {batch_case('start_year + 3 * (cycles + 1) + 1 + floor(u_end * 2)::integer')}
            from holders
            where u_end >= 0.04 and u_end < 0.04 + 0.30
        )
        select *, 0 as sub from dated
        union all
        select *, 1 as sub from ends
    """)
    con.execute(f"""
        create temp table scale_events as
        select f.id, f.uscc, f.firm_name, 'scale_up' as event_type, null as level, 'scale' as stream,
               0 as k, 'granted' as action,
               make_date(2005 + floor({_u(40, 'f.id')} * 22)::integer,
                         {_pick(('3', '6', '9', '12'), _u(41, 'f.id'))},
                         case {_pick(('3', '6', '9', '12'), _u(41, 'f.id'))} when 3 then 31 when 6 then 30
                              when 9 then 30 else 31 end) as effective_date,
               0 as sub
        from f where {_u(42, 'f.id')} < {MIX['scale_up']} and f.u_kind >= {MIX['master_only']}
    """)
    con.execute(f"""
        insert into scale_events
        select id, uscc, firm_name, event_type, level, stream, 1, 'expired',
               make_date(year(effective_date) + 2 + floor({_u(43, 'id')} * 6)::integer, 12, 31), 1
        from scale_events where {_u(44, 'id')} < 0.08
    """)
    centers = [("tech_center", MIX["tech_center"]), ("design_center", MIX["design_center"]),
               ("5g_factory", MIX["5g_factory"])]
    parts = []
    for salt, (etype, share) in enumerate(centers, start=50):
        level = "'national'" if etype == "5g_factory" else _pick(("'national'", "'provincial'", "'municipal'"),
                                                                  _u(salt + 10, 'f.id'))
        batch = "5g_factory" if etype == "5g_factory" else "center"
        first = 2023 if etype == "5g_factory" else 2010
        parts.append(f"""
        select f.id, f.uscc, f.firm_name, '{etype}' as event_type, {level} as level, '{etype}' as stream, 0 as k,
               'granted' as action,
               {_batch_date(batch, f"{first} + floor({_u(salt + 20, 'f.id')} * {last_year - first + 1})",
                            _u(salt + 30, 'f.id'))} as effective_date,
               0 as sub
        from f where {_u(salt, 'f.id')} < {share} and f.u_kind >= {MIX['master_only']}""")
    con.execute("create temp table center_events as " + " union all ".join(parts))
    # provincial grants that 小巨人 percent-of-grant clauses read: 70% of new giants, 1-4 months on
    con.execute(f"""
        create temp table grant_events as
        select id, uscc, firm_name, 'provincial_grant' as event_type, 'provincial' as level, 'grant' as stream,
               k, 'granted' as action, effective_date + 30 + floor({_u(60, 'id * 16 + k')} * 90)::integer
                   as effective_date,
               2 as sub,
               {_pick(("500000.00", "800000.00", "1000000.00", "1500000.00"), _u(61, 'id'))}::decimal(18, 2)
                   as amount
        from designation_events
        where event_type = 'little_giant' and action = 'granted' and {_u(62, 'id * 16 + k')} < 0.7
    """)
    con.execute(f"""
        create temp table all_designations as
        select id, uscc, firm_name, event_type, level, stream, k, sub, action, effective_date,
               effective_date + 3 + floor({_u(70, 'id * 1024 + k * 16 + sub')} * 18)::integer as published_date,
               null::decimal(18, 2) as amount
        from (select * from designation_events union all select * from scale_events
              union all select * from center_events)
        union all
        select id, uscc, firm_name, event_type, level, stream, k, sub, action, effective_date,
               effective_date + 2 + floor({_u(71, 'id * 64 + k')} * 5)::integer, amount
        from grant_events
    """)
    # old 升规 rows (before 2016) often have no published date, as in the sample data
    con.execute(f"""
        update all_designations set published_date = null
        where event_type = 'scale_up' and effective_date < date '2016-01-01' and {_u(72, 'id')} < 0.5
    """)
    # a source retracts 0.1% of the records it published (same firm/type/level/date; a grant's
    # retraction repeats its amount, which the contract requires of every grant row)
    con.execute(f"""
        insert into all_designations
        select id, uscc, firm_name, event_type, level, stream, k, 9, 'retracted', effective_date,
               published_date + 10 + floor({_u(73, 'id * 64 + k')} * 20)::integer, amount
        from all_designations
        where action in ('granted', 'renewed') and event_type <> 'scale_up' and {_u(74, 'id * 64 + k')} < 0.001
    """)
    known = f"effective_date <= {as_of_lit} and coalesce(published_date, effective_date) <= {as_of_lit}"
    con.execute(f"delete from all_designations where not ({known})")
    n_designations = con.execute("select count(*) from all_designations").fetchone()[0]
    n_reports = max(events - n_designations, 0)
    # annual reports fill the rest: firms x fiscal years 2016..as_of-1, in hash order
    fy_span = as_of.year - 2016
    con.execute(f"""
        create temp table report_events as
        select f.id, f.uscc, f.firm_name, 'annual_report' as event_type, null as level, 'report' as stream,
               fy as k, 3 as sub, 'granted' as action, make_date(fy, 12, 31) as effective_date,
               make_date(fy + 1, 4, 30) as published_date,
               (1000000 + floor({_u(80, 'f.id * 4096 + fy')} * 499000000))::decimal(18, 2) as revenue,
               (floor(({_u(81, 'f.id * 4096 + fy')} - 0.15) * 40000000))::decimal(18, 2) as profit,
               (200000 + floor({_u(82, 'f.id * 4096 + fy')} * 60000000))::decimal(18, 2) as wages,
               fy as fiscal_year
        from f, range(2016, {as_of.year}) r(fy)
        where f.u_kind >= {MIX['master_only']}
          and ({_h(83, 'f.id * 4096 + fy')} % 1000000) < {min(1_000_000, round(
              1_000_000 * n_reports * 1.05 / max(1, firms * (1 - MIX['master_only']) * fy_span)))}
        order by {_h(84, 'f.id * 4096 + fy')}, f.id, fy
        limit {n_reports}
    """)
    con.execute(f"""
        create temp table e as
        select * from (
            select id, uscc, firm_name, event_type, action, level, effective_date, published_date,
                   case when event_type = 'provincial_grant' then '省财企〔' || year(effective_date) || '〕'
                                  || (1 + id % 97) || '号'
                        when event_type = 'scale_up' then '统计局' || year(effective_date) || '年升规纳统'
                        when action = 'retracted'
                            then '更正通知〔' || year(published_date) || '〕' || (1 + id % 50) || '号'
                        else {doc_case} || '〔' || year(effective_date)
                             || '〕' || (1 + (hash(event_type, year(effective_date)) % 90)) || '号' end
                       as document_ref,
                   case when event_type = 'provincial_grant' then 'little_giant' end as program,
                   amount, null::integer as fiscal_year, null::decimal(18, 2) as revenue,
                   null::decimal(18, 2) as profit, null::decimal(18, 2) as wages, stream, k, sub
            from all_designations
            union all
            select id, uscc, firm_name, event_type, action, level, effective_date, published_date,
                   fiscal_year || '年度统计年报', null, null, fiscal_year, revenue, profit, wages, stream, k, sub
            from report_events
        )
        order by hash(xor({_h(90, 'id * 1024 + k * 16 + sub')}, hash(stream))), id, stream, k, sub
        limit {events}
    """)
    # the night after as_of: new batch of 高企 (granted/renewed), 专精特新, 升规, a few revocations
    night = as_of + dt.timedelta(days=1)
    night_lit = f"date '{night.isoformat()}'"
    con.execute(f"""
        create temp table night_e as
        with picked as (
            select f.*, row_number() over (order by {_h(95, 'f.id')}, f.id) as n
            from f where f.u_kind >= {MIX['master_only']}
        )
        select id, uscc, firm_name,
               case when n % 20 < 12 then 'hitech' when n % 20 < 15 then 'srdi_provincial'
                    when n % 20 < 18 then 'scale_up' when n % 20 < 19 then 'innovative_sme'
                    else 'hitech' end as event_type,
               case when n % 20 = 19 then 'revoked' when n % 20 < 12 and n % 3 = 0 then 'renewed'
                    else 'granted' end as action,
               case when n % 20 < 12 or n % 20 = 19 then 'national' when n % 20 < 15 then 'provincial'
                    when n % 20 < 18 then null else 'provincial' end as level,
               {night_lit} as effective_date, {night_lit} as published_date,
               '夜间批次〔' || year({night_lit}) || '〕' || (1 + n % 7) || '号' as document_ref,
               null as program, null::decimal(18, 2) as amount, null::integer as fiscal_year,
               null::decimal(18, 2) as revenue, null::decimal(18, 2) as profit, null::decimal(18, 2) as wages,
               n
        from picked
        where n <= {night_events}
    """)


def _copy_events(con: duckdb.DuckDBPyConnection, table: str, path: Path, order: str) -> None:
    filled = {"uscc", "firm_name", "event_type", "action", "level", "effective_date", "published_date",
              "document_ref", "program", "amount", "fiscal_year", "revenue", "profit", "wages"}
    columns = ", ".join(name if name in filled else f"null as {name}" for name in contracts.EVENTS.field_names)
    con.execute(f"copy (select {columns} from {table} order by {order}) to {_sql_str(str(path))} "
                "(header, delimiter ',', dateformat '%Y-%m-%d')")


def generate(out_dir: Path, firms: int = 100_000, events: int = 500_000, *, seed: int = DEFAULT_SEED,
             as_of: dt.date = DEFAULT_AS_OF, night_events: int = 10_000, catalog_share: float = 0.2,
             threads: int = 2) -> Generated:
    """Write firms.csv, events.csv, events_night.csv and hitech_list.csv (+ manifest.json) to `out_dir`."""
    if not 0 < firms < _MAX_SERIAL:
        raise ValueError(f"firms must be between 1 and {_MAX_SERIAL - 1}")
    if events < 1 or night_events < 0 or night_events > firms:
        raise ValueError("events must be positive and night_events between 0 and firms")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"set threads = {threads}")
        con.execute("set preserve_insertion_order = true")
        con.execute(f"set variable seed = {int(seed)}")
        _build(con, firms, events, night_events, as_of, catalog_share)
        con.execute(f"""copy (select uscc, firm_name, division_code, industry_code, registered_date from f
                              order by id)
                        to {_sql_str(str(out_dir / 'firms.csv'))} (header, delimiter ',', dateformat '%Y-%m-%d')""")
        order = "effective_date, coalesce(published_date, effective_date), uscc, event_type, action, " \
                "coalesce(level, ''), coalesce(fiscal_year, 0), document_ref"
        _copy_events(con, "e", out_dir / "events.csv", order)
        _copy_events(con, "night_e", out_dir / "events_night.csv", "n")
        # 认定机构备案名单: the latest year's 高企 batches as an agency publishes them
        con.execute("""
            create temp table hitech_list as
            select row_number() over (order by effective_date, uscc) as 序号,
                   firm_name as 企业名称,
                   uscc as 统一社会信用代码,
                   'GR' || year(effective_date) || substr(uscc, 3, 2)
                       || lpad((row_number() over (partition by year(effective_date), substr(uscc, 3, 2)
                                                   order by effective_date, uscc))::varchar, 6, '0') as 证书编号,
                   strftime(effective_date, '%Y-%m-%d') as 发证日期,
                   case action when 'granted' then '新认定' else '重新认定' end as 认定类型
            from e
            where event_type = 'hitech' and action in ('granted', 'renewed')
              and year(effective_date) = (select max(year(effective_date)) from e where event_type = 'hitech')
        """)
        list_rows = con.execute("select count(*) from hitech_list").fetchone()[0]
        list_path = out_dir / "hitech_list.csv"
        con.execute(f"copy (select * from hitech_list order by 序号) to {_sql_str(str(list_path))} "
                    "(header, delimiter ',')")
        # as the agency's file arrives: saved from Excel in GB18030 (sources/hitech/source.yml reads it so)
        list_path.write_bytes(list_path.read_text(encoding="utf-8").encode("gb18030"))
        counts = con.execute("select (select count(*) from f), (select count(*) from e), "
                             "(select count(*) from night_e)").fetchone()
    finally:
        con.close()
    files = {name: hashlib.sha256((out_dir / name).read_bytes()).hexdigest()
             for name in ("firms.csv", "events.csv", "events_night.csv", "hitech_list.csv")}
    result = Generated(str(out_dir), seed, as_of.isoformat(), (as_of + dt.timedelta(days=1)).isoformat(),
                       counts[0], counts[1], counts[2], list_rows, files, round(time.perf_counter() - started, 2))
    (out_dir / "manifest.json").write_text(result.to_json() + "\n", encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.synthetic", description=__doc__.split("\n")[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--night-events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--catalog-share", type=float, default=0.2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    result = generate(args.out, args.firms, args.events, seed=args.seed, as_of=args.as_of,
                      night_events=args.night_events, catalog_share=args.catalog_share)
    print(result.to_json())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
