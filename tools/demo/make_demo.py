#!/usr/bin/env python3
"""Writes tools/demo/demo.jsonl, the demo data set, from the facts of the
seed documents (../shared/seeds). Run it again after changing it:

    python3 tools/demo/make_demo.py > tools/demo/demo.jsonl

Each line is a nenep.v1.BatchEntry ({"event": {...}}) in protobuf's JSON
mapping. What is invented or assumed is listed in tools/demo/README.md.
Before writing, the events are replayed against a small model of the tree
(parents active, members in active cells, attendance within the cell's
membership, nothing after a unit's end, ...); a failed check stops the script.
"""

import collections
import datetime
import json
import re
import sys
import unicodedata

LINES = []
TODAY = datetime.date(2026, 11, 24)


def d(y, m, day):
    return {"year": y, "month": m, "day": day}


def day_of(date):
    return datetime.date(date["year"], date["month"], date["day"])


def emit(date, payload_name, payload, source=None, note=None):
    event = {"businessDate": date}
    if source:
        event["sourceDocument"] = source
    if note:
        event["note"] = note
    event[payload_name] = payload
    LINES.append({"event": event})


def unit(uid, kind, name, parent, date, base_org=False, predecessors=None,
         source=None, note=None):
    p = {"unitId": uid, "kind": "UNIT_KIND_" + kind, "name": name,
         "setting": "UNIT_SETTING_STATE_AGENCY"}
    if base_org:
        p["isBaseOrg"] = True
    if parent:
        p["parentId"] = parent
    if predecessors:
        p["predecessorUnitIds"] = predecessors
    emit(date, "unitCreated", p, source=source, note=note)


# Invented member names: family name, a middle name that fits the given
# name's usual gender, given name.
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng",
          "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MALE = (["Văn", "Hữu", "Đức", "Minh", "Quang", "Công"],
        ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Long", "Nam", "Quân",
         "Sơn", "Thắng", "Tuấn", "Khánh", "Toàn"])
FEMALE = (["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng"],
          ["Hà", "Hạnh", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga",
           "Phương", "Thảo", "Trang", "Yến", "Huyền"])

MEMBERS = {}  # cell -> list of member ids
NAME_COUNTER = [0]


def members(cell, prefix, count, date):
    ids = []
    for i in range(count):
        k = NAME_COUNTER[0]
        NAME_COUNTER[0] += 1
        middles, givens = FEMALE if k % 5 in (1, 3) else MALE
        name = (f"{FAMILY[(k * 5 + k // 14) % len(FAMILY)]} "
                f"{middles[(k * 7 + k // 6) % len(middles)]} "
                f"{givens[(k * 3 + k // 13) % len(givens)]}")
        mid = f"{prefix}.m{len(MEMBERS.get(cell, [])) + i + 1:02d}"
        emit(date, "memberJoined", {
            "memberId": mid, "cellId": cell, "displayName": name,
            "status": "MEMBER_STATUS_OFFICIAL", "how": "JOIN_KIND_INITIAL_LOAD"})
        ids.append(mid)
    MEMBERS.setdefault(cell, []).extend(ids)
    return ids


def session(sid, cell, date, kind, period, topic, convened, present,
            items=(), location=None, tags=("HCM",), duration=None):
    p = {"sessionId": sid, "unitId": cell, "kind": "SESSION_KIND_" + kind,
         "forPeriod": period, "topic": topic, "tags": list(tags)}
    if items:
        p["hcmItems"] = [{"type": "HCM_ITEM_TYPE_" + t, "title": title}
                         for t, title in items]
    p["attendance"] = {"convened": convened, "present": present}
    if convened > present:
        p["attendance"]["absentExcused"] = convened - present
    if duration:
        p["durationMinutes"] = duration
    p["format"] = "SESSION_FORMAT_IN_PERSON"
    if location:
        p["location"] = location
    emit(date, "sessionHeld", p)


def weekday_on_or_before(y, m, day):
    when = datetime.date(y, m, day)
    while when.weekday() >= 5:
        when -= datetime.timedelta(days=1)
    return d(when.year, when.month, when.day)


def campaign_tag(date):
    return "KL01" if day_of(date) >= datetime.date(2021, 5, 18) else "CT05"


def first_monday(y, m):
    day = datetime.date(y, m, 1)
    while day.weekday() != 0:
        day += datetime.timedelta(days=1)
    return d(day.year, day.month, day.day)


# --- The central bloc and Đảng bộ Bộ Tư pháp (seeds 000, 004) ---------------
unit("dbk", "DIRECT_UNDER_CENTRAL", "Đảng bộ Khối các cơ quan Trung ương",
     None, d(2007, 1, 1))
unit("db-btp", "UPPER_BASE", "Đảng bộ Bộ Tư pháp", "dbk", d(2007, 1, 1))
unit("db-tcthads", "BASE_PARTY_COMMITTEE",
     "Đảng bộ Tổng cục Thi hành án dân sự", "db-btp", d(2009, 7, 1), True,
     note="Ngày thành lập là giả định (năm 2009, khi lập Tổng cục)")
unit("cb-tccb", "ATTACHED_CELL", "Chi bộ Vụ Tổ chức cán bộ", "db-tcthads",
     d(2009, 7, 1))
unit("cb-gqkntc", "ATTACHED_CELL", "Chi bộ Vụ Giải quyết khiếu nại, tố cáo",
     "db-tcthads", d(2009, 7, 1))
unit("cb-vdcxdpl", "BASE_CELL",
     "Chi bộ Vụ Các vấn đề chung về xây dựng pháp luật", "db-btp",
     d(2007, 1, 1), True)

# --- Đảng bộ cơ quan Ban Tổ chức Trung ương (seed 002) ------------------------
unit("db-btctw", "BASE_PARTY_COMMITTEE",
     "Đảng bộ cơ quan Ban Tổ chức Trung ương", "dbk", d(2007, 1, 1), True)
BTCTW_CELLS = [  # the twelve cells seed 002 names, spelt as in the seed
    ("cb-btctw-csd", "Chi bộ Vụ Cơ sở đảng"),
    ("cb-btctw-dv", "Chi bộ Vụ Đảng viên"),
    ("cb-btctw-dp1", "Chi bộ Vụ Địa phương I"),
    ("cb-btctw-dp2", "Chi bộ Vụ Địa phương II"),
    ("cb-btctw-dp3", "Chi bộ Vụ Địa phương III"),
    ("cb-btctw-v4", "Chi bộ Vụ IV"),
    ("cb-btctw-tccb", "Chi bộ Vụ Tổ chức - Cán bộ cơ quan"),
    ("cb-btctw-tvqt", "Chi bộ Tài vụ - Quản trị - Công nghệ thông tin"),
    ("cb-btctw-pth", "Chi bộ Phòng Tổng hợp"),
    ("cb-btctw-bvct", "Chi bộ Vụ Bảo vệ chính trị nội bộ"),
    ("cb-btctw-tcxdd", "Chi bộ Tạp chí Xây dựng Đảng"),
    ("cb-btctw-dtbd", "Chi bộ Vụ Đào tạo, bồi dưỡng cán bộ"),
]
for cid, name in BTCTW_CELLS:
    unit(cid, "ATTACHED_CELL", name, "db-btctw", d(2007, 1, 1))

# --- Đồng Nai (seed 003) and Thái Nguyên (seed 001) ---------------------------
unit("dbt-dongnai", "DIRECT_UNDER_CENTRAL", "Đảng bộ tỉnh Đồng Nai", None,
     d(2000, 1, 1))
unit("dbk-dongnai", "UPPER_BASE", "Đảng bộ Khối các cơ quan tỉnh Đồng Nai",
     "dbt-dongnai", d(2000, 1, 1))
unit("db-stp-dongnai", "BASE_PARTY_COMMITTEE", "Đảng bộ Sở Tư pháp",
     "dbk-dongnai", d(2000, 1, 1), True)
unit("cb-stp-vp", "ATTACHED_CELL", "Chi bộ Văn phòng Sở Tư pháp",
     "db-stp-dongnai", d(2000, 1, 1),
     note="Chi bộ giả định: nguồn không nêu tên chi bộ nào của Đảng bộ Sở "
          "Tư pháp")
unit("db-kbnn-dongnai", "BASE_PARTY_COMMITTEE",
     "Đảng bộ Kho bạc Nhà nước tỉnh", "dbk-dongnai", d(2000, 1, 1), True)
unit("db-hq-dongnai", "BASE_PARTY_COMMITTEE", "Đảng bộ Cục Hải quan Đồng Nai",
     "dbk-dongnai", d(2000, 1, 1), True)
unit("cb-bdv-dongnai", "BASE_CELL", "Chi bộ Ban Dân vận Tỉnh ủy",
     "dbk-dongnai", d(2000, 1, 1), True)
unit("dbt-binhphuoc", "DIRECT_UNDER_CENTRAL", "Đảng bộ tỉnh Bình Phước", None,
     d(2000, 1, 1))
unit("dbt-thainguyen", "DIRECT_UNDER_CENTRAL", "Đảng bộ tỉnh Thái Nguyên",
     None, d(2000, 1, 1),
     note="Tỉnh của nguồn 001 được suy ra từ các địa danh (Hùng Sơn, La Bằng, "
          "Đại Từ)")
unit("dbk-thainguyen", "UPPER_BASE",
     "Đảng bộ Khối các cơ quan tỉnh Thái Nguyên", "dbt-thainguyen",
     d(2000, 1, 1))
unit("cb-cthads-tn", "BASE_CELL", "Chi bộ Cục Thi hành án dân sự tỉnh",
     "dbk-thainguyen", d(2009, 7, 1), True)

# --- Members --------------------------------------------------------------------
members("cb-tccb", "tccb", 10, d(2018, 1, 2))
members("cb-gqkntc", "gqkntc", 9, d(2018, 1, 2))
members("cb-vdcxdpl", "vdcxdpl", 12, d(2021, 1, 4))
for cid, _ in BTCTW_CELLS:
    members(cid, cid.replace("cb-btctw-", "btctw."), 8, d(2013, 1, 2))
members("cb-stp-vp", "stp", 8, d(2020, 12, 1))
members("cb-bdv-dongnai", "bdv", 9, d(2020, 12, 1))
tn = members("cb-cthads-tn", "thads-tn", 22, d(2019, 12, 2))

# --- Plans (seeds 000, 004) ---------------------------------------------------------
DOC_2785 = {"number": "2785/KH-TCTHADS",
            "issuer": "Tổng cục Thi hành án dân sự", "date": d(2016, 8, 23),
            "title": "Phát động và tổ chức thực hiện phong trào thi đua “Cán "
                     "bộ Tư pháp đẩy mạnh học tập và làm theo tư tưởng, đạo "
                     "đức, phong cách Hồ Chí Minh” trong Hệ thống các cơ quan "
                     "Thi hành án dân sự giai đoạn 2016-2020"}
emit(d(2016, 8, 23), "planIssued", {
    "planId": "kh-2785-2016", "issuerUnitId": "db-tcthads",
    "issuerOrgan": "Tổng cục Thi hành án dân sự",
    "document": DOC_2785,
    "kind": "PLAN_KIND_MOVEMENT", "campaign": "CAMPAIGN_CT05",
    "implementsDocuments": ["05-CT/TW", "27/CT-TTg"],
    "period": {"start": d(2016, 1, 1), "end": d(2020, 12, 31)}},
    source=DOC_2785,
    note="Cơ quan ban hành là Tổng cục (cơ quan nhà nước); ghi dưới đơn vị "
         "đảng của Tổng cục. Nguồn viết “2785 /KH-TCTHADS”")
DOC_35 = {"number": "35/KH-ĐU", "issuer": "Đảng ủy Tổng cục Thi hành án dân sự",
          "date": d(2018, 4, 16),
          "title": "Kế hoạch về đẩy mạnh học tập và làm theo tư tưởng, đạo "
                   "đức, phong cách Hồ Chí Minh"}
emit(d(2018, 4, 16), "planIssued", {
    "planId": "kh-35-2018", "issuerUnitId": "db-tcthads",
    "issuerOrgan": "Đảng ủy",
    "document": DOC_35,
    "kind": "PLAN_KIND_ANNUAL", "campaign": "CAMPAIGN_CT05",
    "implementsPlanId": "kh-2785-2016",
    "implementsDocuments": ["27/CT-TTg", "52-HD/BTGTW", "101-QĐ/TW",
                            "08-CTr/ĐU", "213/QĐ-BTP"],
    "period": {"start": d(2018, 1, 1), "end": d(2018, 12, 31)},
    "contentItems": [
        "Tổ chức học tập, sinh hoạt định kỳ, sinh hoạt chuyên đề về học tập "
        "và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh (chuyên đề năm "
        "2018 theo Hướng dẫn số 52-HD/BTGTW)",
        "Tập trung lãnh đạo, chỉ đạo một số nhiệm vụ trọng tâm năm 2018",
        "Chỉ đạo điểm đối với Chi bộ Vụ Tổ chức cán bộ và Chi bộ Vụ Giải quyết "
        "khiếu nại, tố cáo",
        "Xây dựng điển hình và tăng cường công tác tuyên truyền (mỗi tháng có "
        "ít nhất 01 bài viết)",
        "Phát huy vai trò của các tổ chức chính trị - xã hội (Công đoàn, Đoàn "
        "thanh niên)",
        "Tăng cường công tác kiểm tra, giám sát; tổng kết năm; biểu dương, "
        "khen thưởng, rút kinh nghiệm"],
    "requirements": [
        {"action": "REQUIREMENT_ACTION_ISSUE_PLAN",
         "appliesTo": "APPLIES_TO_DIRECT_CHILDREN", "dueDate": d(2018, 5, 4),
         "description": "Các Chi bộ trực thuộc xây dựng kế hoạch thực hiện "
                        "của cơ quan mình, hoàn thành trước 05/5/2018"},
        {"action": "REQUIREMENT_ACTION_SUBMIT_REPORT",
         "appliesTo": "APPLIES_TO_DIRECT_CHILDREN", "dueDate": d(2018, 4, 20),
         "description": "Báo cáo 6 tháng gửi Đảng ủy Tổng cục (qua Văn phòng "
                        "Đảng ủy), chậm nhất trước 20/4"},
        {"action": "REQUIREMENT_ACTION_SUBMIT_REPORT",
         "appliesTo": "APPLIES_TO_DIRECT_CHILDREN", "dueDate": d(2018, 10, 25),
         "description": "Báo cáo tổng kết năm gửi Đảng ủy Tổng cục (qua Văn "
                        "phòng Đảng ủy), ngày 25/10"}]},
    source=DOC_35)
for cell, cell_name, date in (
        ("cb-tccb", "Chi ủy Chi bộ Vụ Tổ chức cán bộ", d(2018, 4, 27)),
        ("cb-gqkntc", "Chi ủy Chi bộ Vụ Giải quyết khiếu nại, tố cáo",
         d(2018, 5, 10))):
    emit(date, "planIssued", {
        "planId": f"kh-{cell}-2018", "issuerUnitId": cell,
        "issuerOrgan": "Chi ủy",
        "document": {"number": "01-KH/CB", "issuer": cell_name, "date": date,
                     "title": "Kế hoạch thực hiện Kế hoạch số 35/KH-ĐU ngày "
                              "16/4/2018 của Đảng ủy Tổng cục"},
        "kind": "PLAN_KIND_IMPLEMENTATION", "campaign": "CAMPAIGN_CT05",
        "implementsPlanId": "kh-35-2018",
        "period": {"start": d(2018, 1, 1), "end": d(2018, 12, 31)}},
        note="Kế hoạch, số và ngày ban hành là giả định (nguồn 000 chỉ nêu "
             "hạn trước 05/5/2018)")
emit(d(2021, 6, 15), "planIssued", {
    "planId": "kh-dbk-kl01", "issuerUnitId": "dbk",
    "issuerOrgan": "Ban Thường vụ",
    "document": {"number": "(chưa rõ số)-KH/ĐUK",
                 "issuer": "Ban Thường vụ Đảng ủy Khối các cơ quan Trung ương",
                 "date": d(2021, 6, 15),
                 "title": "Kế hoạch toàn khóa thực hiện Kết luận số 01-KL/TW "
                          "ngày 18/5/2021 của Bộ Chính trị"},
    "kind": "PLAN_KIND_TERM", "campaign": "CAMPAIGN_KL01",
    "implementsDocuments": ["01-KL/TW", "05-CT/TW"],
    "period": {"start": d(2021, 5, 18), "end": d(2025, 12, 31)}},
    note="Nguồn 004 nêu Kế hoạch toàn khóa và kế hoạch hằng năm của Đảng bộ "
         "Khối; số và ngày của kế hoạch không có trong nguồn (ngày là giả "
         "định)")

# --- Sessions: Chi bộ Cục THADS tỉnh, 2020 (seed 001) ------------------------------
STORIES = [  # 1 (January) and 7 (July) are named in seed 001
    "Cai thuốc lá",
    "Bác Hồ với việc thực hành tiết kiệm, chống lãng phí",
    "Bác Hồ tiếp xúc, giải quyết công việc với cấp dưới, đồng nghiệp và "
    "nhân dân",
    "Lời Bác dạy về phòng, chống tham nhũng",
    "Bác Hồ nêu gương trong lao động",
    "Bác Hồ và tinh thần tự học",
    "Bức thư Bác viết gửi một gia đình công giáo yêu nước - gia đình bác sĩ "
    "Vũ Đình Tụng đề ngày 1/7/1947",
    "Chiếc đồng hồ của Bác",
    "Bác Hồ với tinh thần đoàn kết",
    "Bác Hồ và bài học về lòng nhân ái",
    "Bác Hồ với việc giữ gìn kỷ cương",
    "Bác Hồ và trách nhiệm nêu gương của người cán bộ",
]
for month in range(1, 13):
    present = 22 if month % 4 else 21
    session(f"thads-tn.2020-{month:02d}", "cb-cthads-tn",
            first_monday(2020, month), "REGULAR",
            {"year": 2020, "month": month},
            f"Sinh hoạt chi bộ thường kỳ tháng {month}/2020", 22, present,
            items=[("STORY", STORIES[month - 1])],
            tags=("HCM", "CT05", "self_criticism"))
session("thads-tn.2020-q3", "cb-cthads-tn", d(2020, 7, 24), "THEMATIC",
        {"year": 2020, "quarter": 3},
        "Kỷ niệm lần thứ 73 Ngày Thương binh, liệt sĩ (27/7/1947 - 27/7/2020)",
        22, 22,
        location="Khu Di tích lịch sử Quốc gia 27/7, thị trấn Hùng Sơn và nơi "
                 "thành lập Chi bộ Đảng đầu tiên của tỉnh Thái Nguyên (tháng "
                 "3-1936), xóm Lau Sau, xã La Bằng (Đại Từ)",
        tags=("HCM", "CT05"))

# --- Sessions: Chi bộ Ban Dân vận Tỉnh ủy, 2021 – Q1 2024 (seed 003) ---------------
BDV_TOPICS = {  # only Q1-2024 is named in seed 003
    (2021, 1): "Học tập và làm theo Bác về ý chí tự lực, tự cường",
    (2021, 2): "Bác Hồ với công tác dân vận",
    (2021, 3): "Phong cách quần chúng của Bác Hồ",
    (2021, 4): "Tư tưởng Hồ Chí Minh về đại đoàn kết dân tộc",
    (2022, 1): "Xây dựng đội ngũ cán bộ gương mẫu theo tư tưởng Hồ Chí Minh",
    (2022, 2): "Lời Bác dạy về dân vận khéo",
    (2022, 3): "Bác Hồ với tinh thần phục vụ nhân dân",
    (2022, 4): "Trách nhiệm nêu gương của cán bộ dân vận",
    (2023, 1): "Phát huy dân chủ ở cơ sở theo tư tưởng Hồ Chí Minh",
    (2023, 2): "Tư tưởng Hồ Chí Minh về phòng, chống quan liêu",
    (2023, 3): "Bác Hồ với công tác tôn giáo, dân tộc",
    (2023, 4): "Tác phong gần dân, sát dân của Bác",
    (2024, 1): "Tư tưởng, đạo đức, phong cách Hồ Chí Minh về văn hóa",
}
for (year, quarter), topic in BDV_TOPICS.items():
    month = quarter * 3
    held = weekday_on_or_before(year, month,
                                18 if (year, quarter) != (2024, 1) else 12)
    session(f"bdv.{year}-q{quarter}", "cb-bdv-dongnai", held,
            "THEMATIC", {"year": year, "quarter": quarter}, topic, 9,
            9 - (quarter == 2), tags=("HCM", campaign_tag(held)))
month = (2021, 1)
while month <= (2024, 3):
    y, m = month
    session(f"bdv.{y}-{m:02d}", "cb-bdv-dongnai", first_monday(y, m), "REGULAR",
            {"year": y, "month": m},
            "Sinh hoạt học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí "
            "Minh (sáng thứ hai tuần đầu tháng)", 9, 9,
            items=[("STUDY", f"Chuyên đề học tập tháng {m}/{y}")],
            tags=("HCM", campaign_tag(first_monday(y, m))))
    month = (y + (m == 12), 1 if m == 12 else m + 1)

# --- Sessions: cells of Đảng bộ cơ quan Ban Tổ chức Trung ương, 2014 (seed 002) ---
for cid, day, topic, place in (
        ("cb-btctw-tccb", d(2014, 3, 20),
         "Nghiên cứu, viết bài “Cần, kiệm, liêm, chính, chí công vô tư và công "
         "tác cán bộ theo tư tưởng Hồ Chí Minh”", None),
        ("cb-btctw-bvct", d(2014, 5, 16),
         "Trao đổi chuyên đề và tham quan Bảo tàng Hồ Chí Minh",
         "Bảo tàng Hồ Chí Minh, Hà Nội"),
        ("cb-btctw-bvct", d(2014, 8, 21),
         "Chỉ dẫn của Chủ tịch Hồ Chí Minh về công tác bảo vệ Đảng", None),
        ("cb-btctw-bvct", d(2014, 11, 20),
         "Chủ tịch Hồ Chí Minh nói về kết nạp đảng", None),
        ("cb-btctw-tcxdd", d(2014, 9, 18),
         "Cách ứng xử đối với khuyết điểm của mình và đồng nghiệp theo tư "
         "tưởng Hồ Chí Minh", None),
        ("cb-btctw-dp1", d(2014, 6, 19),
         "Từ lời dạy của Bác nâng cao chuẩn mực đạo đức người cán bộ, công "
         "chức làm công tác tổ chức cán bộ", None)):
    quarter = (day["month"] - 1) // 3 + 1
    session(f"{cid}.{day['year']}-{day['month']:02d}t", cid, day, "THEMATIC",
            {"year": day["year"], "quarter": quarter}, topic, 8,
            8 if day["month"] % 2 else 7, location=place, tags=("HCM", "CT03"))

# --- Commitments of Chi bộ Cục THADS tỉnh, 2020 (seed 001) --------------------------
ITEMS = [
    ("Không hút thuốc lá tại cơ quan và nơi công cộng", "VIRTUE_CATEGORY_NEU_GUONG"),
    ("Làm việc đủ giờ, đúng giờ; hoàn thành đúng hạn các việc thi hành án "
     "được giao", "VIRTUE_CATEGORY_CAN"),
    ("Tiết kiệm điện, nước, văn phòng phẩm; không lãng phí tài sản công",
     "VIRTUE_CATEGORY_KIEM"),
    ("Không nhận quà, không gây phiền hà, sách nhiễu đương sự",
     "VIRTUE_CATEGORY_LIEM"),
    ("Tiếp xúc, giải quyết công việc với đương sự, đồng nghiệp đúng mực, công "
     "tâm, khách quan", "VIRTUE_CATEGORY_CHINH"),
    ("Giải quyết dứt điểm các việc có điều kiện thi hành",
     "VIRTUE_CATEGORY_CHUYEN_MON"),
]
for i, mid in enumerate(tn):
    emit(d(2020, 1, 17), "commitmentRegistered", {
        "commitmentId": f"cm.{mid}.2020", "memberId": mid,
        "cellId": "cb-cthads-tn", "campaign": "CAMPAIGN_CT05",
        "period": {"year": 2020},
        "items": [{"text": t, "category": c}
                  for t, c in (ITEMS[i % 6], ITEMS[(i + 2) % 6],
                               ITEMS[(i + 4) % 6])]})
for i, mid in enumerate(tn):
    fulfilled = i != 17
    emit(d(2020, 12, 22), "commitmentEvaluated", {
        "commitmentId": f"cm.{mid}.2020", "period": {"year": 2020},
        "outcome": "EVALUATION_OUTCOME_FULFILLED" if fulfilled
        else "EVALUATION_OUTCOME_NOT_FULFILLED",
        "itemResults": (["ITEM_RESULT_ACHIEVED", "ITEM_RESULT_EXCEEDED"
                         if i % 7 == 0 else "ITEM_RESULT_ACHIEVED",
                         "ITEM_RESULT_ACHIEVED"] if fulfilled else
                        ["ITEM_RESULT_ACHIEVED", "ITEM_RESULT_PARTLY",
                         "ITEM_RESULT_NOT_ACHIEVED"]),
        "evaluator": "Chi ủy"})

# --- Commitments on “cần”, “kiệm” in three Ban Tổ chức TW cells, 2014 (seed 002) ----
for cid in ("cb-btctw-dp2", "cb-btctw-dp3", "cb-btctw-pth"):
    for mid in MEMBERS[cid]:
        emit(d(2014, 2, 20), "commitmentRegistered", {
            "commitmentId": f"cm.{mid}.2014", "memberId": mid, "cellId": cid,
            "campaign": "CAMPAIGN_CT03", "period": {"year": 2014},
            "items": [
                {"text": "Cần: chủ động, tận tụy, hoàn thành đúng tiến độ các "
                         "đề án, nhiệm vụ được giao",
                 "category": "VIRTUE_CATEGORY_CAN"},
                {"text": "Kiệm: tiết kiệm thời gian, kinh phí, văn phòng "
                         "phẩm; chống lãng phí",
                 "category": "VIRTUE_CATEGORY_KIEM"}]})

# --- Awards -----------------------------------------------------------------------
THADS_AGENCY = {"type": "RECIPIENT_TYPE_STATE_AGENCY",
                "name": "Cục Thi hành án dân sự tỉnh Thái Nguyên",
                "countedUnderUnitId": "cb-cthads-tn"}
PERIOD_2020 = {"start": d(2020, 1, 1), "end": d(2020, 12, 31)}
AWARD_2020_NOTE = ("Nguồn 001 chỉ nêu “năm 2020”; số và ngày quyết định không "
                   "rõ (ngày 15/1/2021 là giả định)")
emit(d(2021, 1, 15), "awardGiven", {
    "awardId": "bk-btvtu-tn-2020-thads", "kind": "AWARD_KIND_BANG_KHEN",
    "issuer": {"system": "ISSUER_SYSTEM_PARTY",
               "level": "ISSUER_LEVEL_MINISTRY_PROVINCE",
               "organ": "Ban Thường vụ Tỉnh ủy", "unitId": "dbt-thainguyen"},
    "recipients": [THADS_AGENCY], "achievementPeriod": PERIOD_2020,
    "title": "Bằng khen"}, note=AWARD_2020_NOTE)
emit(d(2021, 1, 15), "awardGiven", {
    "awardId": "ctdxs-ubnd-tn-2020-thads", "kind": "AWARD_KIND_CO_THI_DUA",
    "issuer": {"system": "ISSUER_SYSTEM_STATE",
               "level": "ISSUER_LEVEL_MINISTRY_PROVINCE",
               "organ": "Ủy ban nhân dân tỉnh"},
    "title": "Cờ Thi đua xuất sắc",
    "recipients": [THADS_AGENCY], "achievementPeriod": PERIOD_2020},
    note=AWARD_2020_NOTE)
emit(d(2021, 1, 15), "awardGiven", {
    "awardId": "ctdn-btp-2020-thads-tn", "kind": "AWARD_KIND_CO_THI_DUA",
    "issuer": {"system": "ISSUER_SYSTEM_STATE",
               "level": "ISSUER_LEVEL_MINISTRY_PROVINCE",
               "organ": "Bộ trưởng Bộ Tư pháp"},
    "title": "Cờ Thi đua Ngành Tư pháp",
    "recipients": [THADS_AGENCY], "achievementPeriod": PERIOD_2020},
    note=AWARD_2020_NOTE)
KL01 = {"number": "01-KL/TW", "issuer": "Bộ Chính trị", "date": d(2021, 5, 18),
        "title": "Kết luận về tiếp tục thực hiện Chỉ thị số 05-CT/TW “về đẩy "
                 "mạnh học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí "
                 "Minh”"}
REVIEW_NOTE = ("Trao tại Hội nghị sơ kết thực hiện Kết luận số 01-KL/TW giai "
               "đoạn 2021-2023 của Đảng ủy Khối các cơ quan Trung ương, chiều "
               "18/5/2023; số quyết định không có trong nguồn")
PHASE = {"start": d(2021, 1, 1), "end": d(2023, 5, 18)}
emit(d(2023, 5, 18), "awardGiven", {
    "awardId": "bk-dbk-2023-vdcxdpl", "kind": "AWARD_KIND_BANG_KHEN",
    "issuer": {"system": "ISSUER_SYSTEM_PARTY",
               "level": "ISSUER_LEVEL_MINISTRY_PROVINCE",
               "organ": "Đảng ủy Khối các cơ quan Trung ương", "unitId": "dbk"},
    "campaign": "CAMPAIGN_KL01",
    "title": "Vì đã có thành tích xuất sắc trong học tập và làm theo tư tưởng, "
             "đạo đức, phong cách Hồ Chí Minh giai đoạn 2021-2023",
    "recipients": [{"type": "RECIPIENT_TYPE_PARTY_UNIT",
                    "unitId": "cb-vdcxdpl"}],
    "achievementPeriod": PHASE}, note=REVIEW_NOTE)
for award_id, organ, system, level, issuer_unit, collectives, individuals in (
        ("bk-dbk-2023-tong", "Đảng ủy Khối các cơ quan Trung ương",
         "ISSUER_SYSTEM_PARTY", "ISSUER_LEVEL_MINISTRY_PROVINCE", "dbk", 99, 43),
        ("bk-ttg-2023-dbk", "Thủ tướng Chính phủ", "ISSUER_SYSTEM_STATE",
         "ISSUER_LEVEL_CENTRAL", None, 4, 6),
        ("bk-tbtgtw-2023-dbk", "Trưởng ban Tuyên giáo Trung ương",
         "ISSUER_SYSTEM_PARTY", "ISSUER_LEVEL_CENTRAL", None, 4, 6)):
    issuer = {"system": system, "level": level, "organ": organ}
    if issuer_unit:
        issuer["unitId"] = issuer_unit
    emit(d(2023, 5, 18), "awardGiven", {
        "awardId": award_id, "kind": "AWARD_KIND_BANG_KHEN",
        "issuer": issuer, "campaign": "CAMPAIGN_KL01",
        "title": "Có thành tích xuất sắc trong học tập và làm theo tư tưởng, "
                 "đạo đức, phong cách Hồ Chí Minh (số liệu tổng hợp)",
        "aggregate": {"collectives": collectives, "individuals": individuals,
                      "countedUnderUnitId": "dbk"},
        "achievementPeriod": PHASE},
        note="Số liệu tổng hợp báo cáo tại Hội nghị sơ kết ngày 18/5/2023 "
             "(nguồn 004), không kèm danh sách; không cộng với các khen "
             "thưởng chi tiết")

# --- The 2025 restructuring (domain.md §1.2) ----------------------------------------
QD243 = {"number": "243-QĐ/TW", "issuer": "Bộ Chính trị", "date": d(2025, 1, 24),
         "title": "Thành lập Đảng bộ Chính phủ"}
unit("db-chinhphu", "DIRECT_UNDER_CENTRAL", "Đảng bộ Chính phủ", None,
     d(2025, 2, 3), predecessors=["dbk"], source=QD243)
unit("db-cqdtw", "DIRECT_UNDER_CENTRAL", "Đảng bộ các cơ quan Đảng Trung ương",
     None, d(2025, 2, 3), predecessors=["dbk"])
emit(d(2025, 2, 3), "unitMoved", {"unitId": "db-btp", "fromParentId": "dbk",
                                   "toParentId": "db-chinhphu"},
     source=QD243)
emit(d(2025, 2, 3), "unitMoved", {"unitId": "db-btctw", "fromParentId": "dbk",
                                   "toParentId": "db-cqdtw"})
emit(d(2025, 2, 3), "unitDissolved", {
    "unitId": "dbk", "reason": "DISSOLUTION_REASON_ENDED_BY_RESTRUCTURING",
    "successorUnitIds": ["db-chinhphu", "db-cqdtw"]})
DN_NOTE = ("Quyết định của Đồng Nai không có trong nguồn: ngày 14/2/2025 và "
           "tên đơn vị mới là giả định")
unit("db-cqd-dongnai", "UPPER_BASE",
     "Đảng bộ các cơ quan Đảng, đoàn thể, HĐND, tư pháp tỉnh Đồng Nai",
     "dbt-dongnai", d(2025, 2, 14), predecessors=["dbk-dongnai"], note=DN_NOTE)
unit("db-ubnd-dongnai", "UPPER_BASE", "Đảng bộ Ủy ban nhân dân tỉnh Đồng Nai",
     "dbt-dongnai", d(2025, 2, 14), predecessors=["dbk-dongnai"], note=DN_NOTE)
for uid, to in (("cb-bdv-dongnai", "db-cqd-dongnai"),
                ("db-stp-dongnai", "db-ubnd-dongnai"),
                ("db-kbnn-dongnai", "db-ubnd-dongnai"),
                ("db-hq-dongnai", "db-ubnd-dongnai")):
    emit(d(2025, 2, 14), "unitMoved", {"unitId": uid,
                                        "fromParentId": "dbk-dongnai",
                                        "toParentId": to})
emit(d(2025, 2, 14), "unitDissolved", {
    "unitId": "dbk-dongnai",
    "reason": "DISSOLUTION_REASON_ENDED_BY_RESTRUCTURING",
    "successorUnitIds": ["db-cqd-dongnai", "db-ubnd-dongnai"]}, note=DN_NOTE)
unit("dbt-dongnai-2025", "DIRECT_UNDER_CENTRAL", "Đảng bộ tỉnh Đồng Nai",
     None, d(2025, 7, 1), predecessors=["dbt-dongnai", "dbt-binhphuoc"])
emit(d(2025, 7, 1), "unitsMerged", {
    "sourceUnitIds": ["dbt-dongnai", "dbt-binhphuoc"],
    "targetUnitId": "dbt-dongnai-2025", "mode": "MERGE_MODE_CONSOLIDATION"},
    source={"number": "202/2025/QH15", "issuer": "Quốc hội",
            "date": d(2025, 6, 12),
            "title": "Nghị quyết về việc sắp xếp đơn vị hành chính cấp tỉnh"})


# --- Consistency checks: replay the events against a model of the tree ----------

ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
ID_KEYS = {"unitId", "parentId", "fromParentId", "toParentId", "targetUnitId",
           "memberId", "cellId", "planId", "issuerUnitId", "implementsPlanId",
           "sessionId", "commitmentId", "awardId", "countedUnderUnitId"}


def check_ids(value):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ID_KEYS:
                assert ID_RE.match(v), f"bad id {v!r}"
            elif k in ("predecessorUnitIds", "successorUnitIds",
                       "sourceUnitIds", "unitIds"):
                for x in v:
                    assert ID_RE.match(x), f"bad id {x!r}"
            else:
                check_ids(v)
    elif isinstance(value, list):
        for v in value:
            check_ids(v)


def check(lines):
    units = {}      # id -> {"parent", "kind", "end"}
    members_of = collections.defaultdict(set)
    member_cell = {}
    plans, commitments = {}, {}
    CELLS = ("UNIT_KIND_BASE_CELL", "UNIT_KIND_ATTACHED_CELL")

    def active(uid, when, what):
        u = units.get(uid)
        assert u is not None, f"{what}: unit {uid} not created yet"
        assert u["start"] <= when, f"{what}: unit {uid} starts {u['start']}"
        assert u["end"] is None or when < u["end"], \
            f"{what}: unit {uid} ended on {u['end']}"
        return u

    def children(uid):
        return [k for k, v in units.items()
                if v["parent"] == uid and v["end"] is None]

    for n, line in enumerate(lines, 1):
        ev = line["event"]
        when = day_of(ev["businessDate"])
        assert when <= TODAY, f"line {n}: {when} is after {TODAY}"
        what = f"line {n}"
        check_ids(ev)
        (name, p), = [(k, v) for k, v in ev.items()
                      if k not in ("businessDate", "sourceDocument", "note")]
        if name == "unitCreated":
            assert p["unitId"] not in units, f"{what}: duplicate unit"
            if "parentId" in p:
                active(p["parentId"], when, what)
            for pred in p.get("predecessorUnitIds", []):
                assert pred in units, f"{what}: unknown predecessor {pred}"
            units[p["unitId"]] = {"parent": p.get("parentId"),
                                  "kind": p["kind"], "start": when,
                                  "end": None}
        elif name == "unitMoved":
            u = active(p["unitId"], when, what)
            assert u["parent"] == p["fromParentId"], f"{what}: wrong from"
            active(p["toParentId"], when, what)
            u["parent"] = p["toParentId"]
        elif name == "unitDissolved":
            active(p["unitId"], when, what)
            assert not children(p["unitId"]), \
                f"{what}: {p['unitId']} still has {children(p['unitId'])}"
            assert not members_of[p["unitId"]], f"{what}: still has members"
            for s in p.get("successorUnitIds", []):
                active(s, when, what)
            units[p["unitId"]]["end"] = when
        elif name == "unitsMerged":
            target = active(p["targetUnitId"], when, what)
            mapped = {m["childUnitId"]: m["toParentId"]
                      for m in p.get("childMappings", [])}
            for s in p["sourceUnitIds"]:
                active(s, when, what)
                for c in children(s):
                    units[c]["parent"] = mapped.get(c, p["targetUnitId"])
                assert not members_of[s], f"{what}: source cell with members"
                units[s]["end"] = when
            assert target["start"] == when, f"{what}: consolidation target"
        elif name == "memberJoined":
            u = active(p["cellId"], when, what)
            assert u["kind"] in CELLS, f"{what}: {p['cellId']} is not a cell"
            assert p["memberId"] not in member_cell, f"{what}: duplicate member"
            member_cell[p["memberId"]] = (p["cellId"], when)
            members_of[p["cellId"]].add((p["memberId"], when))
        elif name == "planIssued":
            active(p["issuerUnitId"], when, what)
            assert p["planId"] not in plans, f"{what}: duplicate plan"
            if "implementsPlanId" in p:
                assert p["implementsPlanId"] in plans, f"{what}: upper plan"
            for r in p.get("requirements", []):
                assert day_of(r["dueDate"]) >= when, f"{what}: due date"
            plans[p["planId"]] = when
        elif name == "sessionHeld":
            u = active(p["unitId"], when, what)
            assert u["kind"] in CELLS, f"{what}: not a cell"
            a = p["attendance"]
            count = sum(1 for _, j in members_of[p["unitId"]] if j <= when)
            assert a["convened"] <= count, \
                f"{what}: {a['convened']} convened, {count} members"
            assert a["present"] + a.get("absentExcused", 0) + \
                a.get("absentUnexcused", 0) == a["convened"], what
        elif name == "commitmentRegistered":
            active(p["cellId"], when, what)
            cell, joined = member_cell[p["memberId"]]
            assert cell == p["cellId"] and joined <= when, what
            assert p["commitmentId"] not in commitments, what
            commitments[p["commitmentId"]] = (len(p["items"]), when)
        elif name == "commitmentEvaluated":
            assert p["commitmentId"] in commitments, f"{what}: not registered"
            items, registered = commitments[p["commitmentId"]]
            assert registered <= when, f"{what}: evaluated before registered"
            assert len(p.get("itemResults", [])) in (0, items), \
                f"{what}: item results"
        elif name == "awardGiven":
            if "unitId" in p["issuer"]:
                active(p["issuer"]["unitId"], when, what)
            for r in p.get("recipients", []):
                for key in ("unitId", "countedUnderUnitId"):
                    if key in r:
                        active(r[key], when, what)
            if "aggregate" in p and "countedUnderUnitId" in p["aggregate"]:
                active(p["aggregate"]["countedUnderUnitId"], when, what)
        else:
            raise AssertionError(f"{what}: unexpected {name}")


check(LINES)
for line in LINES:
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    assert unicodedata.normalize("NFC", text) == text
    sys.stdout.write(text + "\n")
print(f"make_demo: wrote {len(LINES)} events", file=sys.stderr)
