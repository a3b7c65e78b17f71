#!/usr/bin/env python3
"""Writes tools/demo/demo.jsonl, the demo data set, from the facts of the
seed documents (../shared/seeds). Run it again after changing it:

    python3 tools/demo/make_demo.py > tools/demo/demo.jsonl

Each line is a nenep.v1.BatchEntry ({"event": {...}}) in protobuf's JSON
mapping. What is invented or assumed is listed in tools/demo/README.md.
"""

import datetime
import json
import sys
import unicodedata

LINES = []


def d(y, m, day):
    return {"year": y, "month": m, "day": day}


def emit(date, payload_name, payload, source=None):
    event = {"businessDate": date, payload_name: payload}
    if source:
        event["sourceDocument"] = source
    LINES.append({"event": event})


def unit(uid, kind, name, parent, date, base_org=False, predecessors=None):
    p = {"unitId": uid, "kind": "UNIT_KIND_" + kind, "name": name,
         "setting": "UNIT_SETTING_STATE_AGENCY", "isBaseOrg": base_org}
    if parent:
        p["parentId"] = parent
    if predecessors:
        p["predecessorUnitIds"] = predecessors
    emit(date, "unitCreated", p)


FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng",
          "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quang"]
GIVEN = ["An", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hoa", "Hùng",
         "Hương", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phương",
         "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Trang", "Tuấn", "Yến"]

MEMBERS = {}  # cell -> list of member ids


def members(cell, prefix, count, date):
    ids = []
    for i in range(count):
        k = len(MEMBERS.get(cell, [])) + i
        name = f"{FAMILY[(k * 5 + len(cell)) % len(FAMILY)]} " \
               f"{MIDDLE[(k * 3) % len(MIDDLE)]} {GIVEN[(k * 7 + 3) % len(GIVEN)]}"
        mid = f"{prefix}.m{k + 1:02d}"
        emit(date, "memberJoined", {
            "memberId": mid, "cellId": cell, "displayName": name,
            "status": "MEMBER_STATUS_OFFICIAL", "how": "JOIN_KIND_INITIAL_LOAD"})
        ids.append(mid)
    MEMBERS.setdefault(cell, []).extend(ids)
    return ids


def session(sid, cell, date, kind, period, topic, convened, present,
            items=(), location=None, tags=("HCM",)):
    p = {"sessionId": sid, "unitId": cell, "kind": "SESSION_KIND_" + kind,
         "forPeriod": period, "topic": topic, "tags": list(tags),
         "attendance": {"convened": convened, "present": present,
                        "absentExcused": convened - present},
         "format": "SESSION_FORMAT_IN_PERSON"}
    if items:
        p["hcmItems"] = [{"type": "HCM_ITEM_TYPE_" + t, "title": title}
                         for t, title in items]
    if location:
        p["location"] = location
    emit(date, "sessionHeld", p)


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
     "Đảng bộ Tổng cục Thi hành án dân sự", "db-btp", d(2009, 1, 1), True)
unit("cb-tccb", "ATTACHED_CELL", "Chi bộ Vụ Tổ chức cán bộ", "db-tcthads",
     d(2009, 1, 1))
unit("cb-gqkntc", "ATTACHED_CELL", "Chi bộ Vụ Giải quyết khiếu nại, tố cáo",
     "db-tcthads", d(2009, 1, 1))
unit("cb-vdcxdpl", "BASE_CELL",
     "Chi bộ Vụ Các vấn đề chung về xây dựng pháp luật", "db-btp",
     d(2007, 1, 1), True)

# --- Đảng bộ cơ quan Ban Tổ chức Trung ương (seed 002) ------------------------
unit("db-btctw", "BASE_PARTY_COMMITTEE",
     "Đảng bộ cơ quan Ban Tổ chức Trung ương", "dbk", d(2007, 1, 1), True)
BTCTW_CELLS = [
    ("cb-btctw-csd", "Chi bộ Vụ Cơ sở đảng"),
    ("cb-btctw-dv", "Chi bộ Vụ Đảng viên"),
    ("cb-btctw-dp1", "Chi bộ Vụ Địa phương I"),
    ("cb-btctw-dp2", "Chi bộ Vụ Địa phương II"),
    ("cb-btctw-dp3", "Chi bộ Vụ Địa phương III"),
    ("cb-btctw-v4", "Chi bộ Vụ IV"),
    ("cb-btctw-tccb", "Chi bộ Vụ Tổ chức – Cán bộ cơ quan"),
    ("cb-btctw-tvqt", "Chi bộ Tài vụ – Quản trị – Công nghệ thông tin"),
    ("cb-btctw-pth", "Chi bộ Phòng Tổng hợp"),
    ("cb-btctw-bvct", "Chi bộ Vụ Bảo vệ chính trị nội bộ"),
    ("cb-btctw-tcxdd", "Chi bộ Tạp chí Xây dựng Đảng"),
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
     "db-stp-dongnai", d(2000, 1, 1))
unit("db-kbnn-dongnai", "BASE_PARTY_COMMITTEE",
     "Đảng bộ Kho bạc Nhà nước tỉnh", "dbk-dongnai", d(2000, 1, 1), True)
unit("db-hq-dongnai", "BASE_PARTY_COMMITTEE", "Đảng bộ Cục Hải quan Đồng Nai",
     "dbk-dongnai", d(2000, 1, 1), True)
unit("cb-bdv-dongnai", "BASE_CELL", "Chi bộ Ban Dân vận Tỉnh ủy",
     "dbk-dongnai", d(2000, 1, 1), True)
unit("dbt-binhphuoc", "DIRECT_UNDER_CENTRAL", "Đảng bộ tỉnh Bình Phước", None,
     d(2000, 1, 1))
unit("dbt-thainguyen", "DIRECT_UNDER_CENTRAL", "Đảng bộ tỉnh Thái Nguyên",
     None, d(2000, 1, 1))
unit("dbk-thainguyen", "UPPER_BASE",
     "Đảng bộ Khối các cơ quan tỉnh Thái Nguyên", "dbt-thainguyen",
     d(2000, 1, 1))
unit("cb-cthads-tn", "BASE_CELL", "Chi bộ Cục Thi hành án dân sự tỉnh",
     "dbk-thainguyen", d(2009, 1, 1), True)

# --- Members --------------------------------------------------------------------
members("cb-tccb", "tccb", 10, d(2018, 1, 2))
members("cb-gqkntc", "gqkntc", 9, d(2018, 1, 2))
members("cb-vdcxdpl", "vdcxdpl", 12, d(2021, 1, 4))
for cid, _ in BTCTW_CELLS:
    members(cid, cid.replace("cb-btctw-", "btctw."), 6, d(2013, 1, 2))
members("cb-stp-vp", "stp", 8, d(2020, 12, 1))
members("cb-bdv-dongnai", "bdv", 9, d(2020, 12, 1))
tn = members("cb-cthads-tn", "thads-tn", 22, d(2019, 12, 2))

# --- Plans (seed 000) -------------------------------------------------------------
emit(d(2016, 8, 23), "planIssued", {
    "planId": "kh-2785-2016", "issuerUnitId": "db-tcthads",
    "issuerOrgan": "Tổng cục Thi hành án dân sự",
    "document": {"number": "2785/KH-TCTHADS",
                 "issuer": "Tổng cục Thi hành án dân sự", "date": d(2016, 8, 23),
                 "title": "Phát động phong trào thi đua “Cán bộ Tư pháp đẩy "
                          "mạnh học tập và làm theo tư tưởng, đạo đức, phong "
                          "cách Hồ Chí Minh” trong Hệ thống các cơ quan Thi "
                          "hành án dân sự giai đoạn 2016-2020"},
    "kind": "PLAN_KIND_MOVEMENT", "campaign": "CAMPAIGN_CT05",
    "implementsDocuments": ["05-CT/TW", "27/CT-TTg"],
    "period": {"start": d(2016, 1, 1), "end": d(2020, 12, 31)}})
emit(d(2018, 4, 16), "planIssued", {
    "planId": "kh-35-2018", "issuerUnitId": "db-tcthads",
    "issuerOrgan": "Đảng ủy",
    "document": {"number": "35/KH-ĐU", "issuer": "Đảng ủy Tổng cục THADS",
                 "date": d(2018, 4, 16),
                 "title": "Kế hoạch về đẩy mạnh học tập và làm theo tư tưởng, "
                          "đạo đức, phong cách Hồ Chí Minh"},
    "kind": "PLAN_KIND_ANNUAL", "campaign": "CAMPAIGN_CT05",
    "implementsPlanId": "kh-2785-2016",
    "implementsDocuments": ["05-CT/TW", "27/CT-TTg", "08-CTr/ĐU", "213/QĐ-BTP"],
    "period": {"start": d(2018, 1, 1), "end": d(2018, 12, 31)},
    "contentItems": [
        "Tổ chức học tập, quán triệt chuyên đề năm 2018 và thực hiện chuẩn "
        "mực đạo đức",
        "Tập trung lãnh đạo, chỉ đạo một số nhiệm vụ trọng tâm năm 2018",
        "Chỉ đạo điểm tại Chi bộ Vụ Tổ chức cán bộ và Chi bộ Vụ Giải quyết "
        "khiếu nại, tố cáo",
        "Xây dựng điển hình và tăng cường công tác tuyên truyền (ít nhất 01 "
        "bài viết mỗi tháng)",
        "Phát huy vai trò của Công đoàn và Đoàn thanh niên",
        "Tăng cường kiểm tra, giám sát; tổng kết, biểu dương, khen thưởng"],
    "requirements": [
        {"action": "REQUIREMENT_ACTION_ISSUE_PLAN",
         "appliesTo": "APPLIES_TO_DIRECT_CHILDREN", "dueDate": d(2018, 5, 4),
         "description": "Các Chi bộ trực thuộc xây dựng kế hoạch thực hiện, "
                        "hoàn thành trước 05/5/2018"},
        {"action": "REQUIREMENT_ACTION_SUBMIT_REPORT",
         "appliesTo": "APPLIES_TO_DIRECT_CHILDREN", "dueDate": d(2018, 4, 20),
         "description": "Báo cáo 6 tháng, trước 20/4"},
        {"action": "REQUIREMENT_ACTION_SUBMIT_REPORT",
         "appliesTo": "APPLIES_TO_DIRECT_CHILDREN", "dueDate": d(2018, 10, 25),
         "description": "Báo cáo tổng kết năm, ngày 25/10"}]},
    source={"number": "35/KH-ĐU", "issuer": "Đảng ủy Tổng cục THADS",
            "date": d(2018, 4, 16)})
for cell, cell_name, date, number in (
        ("cb-tccb", "Chi ủy Chi bộ Vụ Tổ chức cán bộ", d(2018, 4, 27), "01-KH/CB"),
        ("cb-gqkntc", "Chi ủy Chi bộ Vụ Giải quyết khiếu nại, tố cáo",
         d(2018, 5, 10), "01-KH/CB")):
    emit(date, "planIssued", {
        "planId": f"kh-{cell}-2018", "issuerUnitId": cell,
        "issuerOrgan": "Chi ủy",
        "document": {"number": number, "issuer": cell_name,
                     "date": date,
                     "title": "Kế hoạch thực hiện Kế hoạch số 35/KH-ĐU"},
        "kind": "PLAN_KIND_IMPLEMENTATION", "campaign": "CAMPAIGN_CT05",
        "implementsPlanId": "kh-35-2018",
        "period": {"start": d(2018, 1, 1), "end": d(2018, 12, 31)}})
emit(d(2021, 6, 15), "planIssued", {
    "planId": "kh-dbk-kl01", "issuerUnitId": "dbk",
    "issuerOrgan": "Ban Thường vụ",
    "document": {"number": "15-KH/ĐUK",
                 "issuer": "Ban Thường vụ Đảng ủy Khối các cơ quan Trung ương",
                 "date": d(2021, 6, 15),
                 "title": "Kế hoạch thực hiện Kết luận số 01-KL/TW ngày "
                          "18/5/2021 của Bộ Chính trị, nhiệm kỳ 2021-2025"},
    "kind": "PLAN_KIND_TERM", "campaign": "CAMPAIGN_KL01",
    "implementsDocuments": ["01-KL/TW"],
    "period": {"start": d(2021, 5, 18), "end": d(2025, 12, 31)}})

# --- Sessions -------------------------------------------------------------------
STORIES = [
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
            {"year": 2020, "month": month}, "Sinh hoạt chi bộ thường kỳ", 22,
            present, items=[("STORY", STORIES[month - 1])])
session("thads-tn.2020-q3", "cb-cthads-tn", d(2020, 7, 25), "THEMATIC",
        {"year": 2020, "quarter": 3},
        "Kỷ niệm 73 năm Ngày Thương binh, liệt sĩ (27/7/1947 - 27/7/2020)",
        22, 22,
        location="Khu Di tích lịch sử Quốc gia 27/7, thị trấn Hùng Sơn và nơi "
                 "thành lập Chi bộ Đảng đầu tiên của tỉnh Thái Nguyên, xóm Lau "
                 "Sau, xã La Bằng (Đại Từ)")

BDV_TOPICS = {
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
    session(f"bdv.{year}-q{quarter}", "cb-bdv-dongnai",
            d(year, month, 18 if (year, quarter) != (2024, 1) else 12),
            "THEMATIC", {"year": year, "quarter": quarter}, topic, 9, 9 - (quarter == 2))
month = (2021, 1)
while month <= (2024, 3):
    y, m = month
    session(f"bdv.{y}-{m:02d}", "cb-bdv-dongnai", first_monday(y, m), "REGULAR",
            {"year": y, "month": m},
            "Sinh hoạt học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí "
            "Minh (sáng thứ hai tuần đầu tháng)", 9, 9,
            items=[("STUDY", f"Chuyên đề học tập tháng {m}/{y}")])
    month = (y + (m == 12), 1 if m == 12 else m + 1)

for cid, day, topic, place in (
        ("cb-btctw-tccb", d(2013, 6, 20),
         "Viết thu hoạch về học tập và làm theo tấm gương đạo đức Hồ Chí Minh",
         None),
        ("cb-btctw-bvct", d(2013, 5, 17),
         "Thăm Khu di tích Phủ Chủ tịch và Lăng Bác", "Khu di tích Phủ Chủ tịch"),
        ("cb-btctw-bvct", d(2013, 9, 12),
         "Tư tưởng Hồ Chí Minh về công tác bảo vệ chính trị nội bộ", None),
        ("cb-btctw-bvct", d(2013, 12, 10),
         "Tấm gương đạo đức Hồ Chí Minh về cần, kiệm, liêm, chính", None),
        ("cb-btctw-tcxdd", d(2013, 9, 19),
         "Tư tưởng Hồ Chí Minh về xây dựng Đảng", None),
        ("cb-btctw-dp1", d(2013, 12, 17),
         "Phong cách Hồ Chí Minh trong công tác với địa phương", None)):
    quarter = (day["month"] - 1) // 3 + 1
    session(f"{cid}.{day['year']}-{day['month']:02d}t", cid, day, "THEMATIC",
            {"year": day["year"], "quarter": quarter}, topic, 6, 6,
            location=place, tags=("HCM", "CT03"))

# --- Commitments of Chi bộ Cục THADS tỉnh, 2020 ------------------------------------
ITEMS = [("Không hút thuốc tại cơ quan và nơi công cộng", "VIRTUE_CATEGORY_NEU_GUONG"),
         ("Giải quyết hồ sơ thi hành án đúng thời hạn", "VIRTUE_CATEGORY_CHUYEN_MON"),
         ("Tiết kiệm điện, nước, văn phòng phẩm", "VIRTUE_CATEGORY_KIEM"),
         ("Tiếp dân tận tình, không gây phiền hà", "VIRTUE_CATEGORY_CHINH")]
for i, mid in enumerate(tn):
    emit(d(2020, 1, 17), "commitmentRegistered", {
        "commitmentId": f"cm.{mid}.2020", "memberId": mid,
        "cellId": "cb-cthads-tn", "campaign": "CAMPAIGN_CT05",
        "period": {"year": 2020},
        "items": [{"text": t, "category": c}
                  for t, c in (ITEMS[i % 4], ITEMS[(i + 1) % 4])]})
for i, mid in enumerate(tn):
    emit(d(2020, 12, 22), "commitmentEvaluated", {
        "commitmentId": f"cm.{mid}.2020", "period": {"year": 2020},
        "outcome": "EVALUATION_OUTCOME_NOT_FULFILLED" if i == 17
        else "EVALUATION_OUTCOME_FULFILLED",
        "evaluator": "Chi ủy"})

# --- Awards -----------------------------------------------------------------------
THADS_AGENCY = {"type": "RECIPIENT_TYPE_STATE_AGENCY",
                "name": "Cục Thi hành án dân sự tỉnh Thái Nguyên",
                "countedUnderUnitId": "cb-cthads-tn"}
PERIOD_2020 = {"start": d(2020, 1, 1), "end": d(2020, 12, 31)}
emit(d(2021, 1, 15), "awardGiven", {
    "awardId": "bk-btvtu-tn-2020-thads", "kind": "AWARD_KIND_BANG_KHEN",
    "issuer": {"system": "ISSUER_SYSTEM_PARTY",
               "level": "ISSUER_LEVEL_MINISTRY_PROVINCE",
               "organ": "Ban Thường vụ Tỉnh ủy Thái Nguyên",
               "unitId": "dbt-thainguyen"},
    "recipients": [THADS_AGENCY], "achievementPeriod": PERIOD_2020})
emit(d(2021, 1, 15), "awardGiven", {
    "awardId": "ctdxs-ubnd-tn-2020-thads", "kind": "AWARD_KIND_CO_THI_DUA",
    "issuer": {"system": "ISSUER_SYSTEM_STATE",
               "level": "ISSUER_LEVEL_MINISTRY_PROVINCE",
               "organ": "Ủy ban nhân dân tỉnh Thái Nguyên"},
    "title": "Cờ Thi đua xuất sắc",
    "recipients": [THADS_AGENCY], "achievementPeriod": PERIOD_2020})
emit(d(2021, 1, 15), "awardGiven", {
    "awardId": "ctdn-btp-2020-thads-tn", "kind": "AWARD_KIND_CO_THI_DUA",
    "issuer": {"system": "ISSUER_SYSTEM_STATE",
               "level": "ISSUER_LEVEL_MINISTRY_PROVINCE",
               "organ": "Bộ trưởng Bộ Tư pháp"},
    "title": "Cờ Thi đua Ngành Tư pháp",
    "recipients": [THADS_AGENCY], "achievementPeriod": PERIOD_2020})
REVIEW = {"number": "Hội nghị sơ kết Kết luận số 01-KL/TW",
          "issuer": "Đảng ủy Khối các cơ quan Trung ương",
          "date": d(2023, 5, 18)}
PHASE = {"start": d(2021, 1, 1), "end": d(2023, 5, 18)}
emit(d(2023, 5, 18), "awardGiven", {
    "awardId": "bk-dbk-2023-vdcxdpl", "kind": "AWARD_KIND_BANG_KHEN",
    "decision": REVIEW,
    "issuer": {"system": "ISSUER_SYSTEM_PARTY",
               "level": "ISSUER_LEVEL_MINISTRY_PROVINCE",
               "organ": "Đảng ủy Khối các cơ quan Trung ương", "unitId": "dbk"},
    "campaign": "CAMPAIGN_KL01",
    "title": "Đã có thành tích xuất sắc trong học tập và làm theo tư tưởng, "
             "đạo đức, phong cách Hồ Chí Minh giai đoạn 2021-2023",
    "recipients": [{"type": "RECIPIENT_TYPE_PARTY_UNIT",
                    "unitId": "cb-vdcxdpl"}],
    "achievementPeriod": PHASE})
for award_id, organ, system, collectives, individuals in (
        ("bk-dbk-2023-tong", "Đảng ủy Khối các cơ quan Trung ương",
         "ISSUER_SYSTEM_PARTY", 99, 43),
        ("bk-ttg-2023-dbk", "Thủ tướng Chính phủ", "ISSUER_SYSTEM_STATE", 4, 6),
        ("bk-tbtgtw-2023-dbk", "Trưởng ban Tuyên giáo Trung ương",
         "ISSUER_SYSTEM_PARTY", 4, 6)):
    emit(d(2023, 5, 18), "awardGiven", {
        "awardId": award_id, "kind": "AWARD_KIND_BANG_KHEN", "decision": REVIEW,
        "issuer": {"system": system,
                   "level": "ISSUER_LEVEL_CENTRAL"
                   if award_id != "bk-dbk-2023-tong"
                   else "ISSUER_LEVEL_MINISTRY_PROVINCE",
                   "organ": organ},
        "campaign": "CAMPAIGN_KL01",
        "aggregate": {"collectives": collectives, "individuals": individuals,
                      "countedUnderUnitId": "dbk"},
        "achievementPeriod": PHASE})

# --- The 2025 restructuring (domain.md §1.2) ----------------------------------------
unit("db-chinhphu", "DIRECT_UNDER_CENTRAL", "Đảng bộ Chính phủ", None,
     d(2025, 2, 3), predecessors=["dbk"])
unit("db-cqdtw", "DIRECT_UNDER_CENTRAL", "Đảng bộ các cơ quan Đảng Trung ương",
     None, d(2025, 2, 3), predecessors=["dbk"])
emit(d(2025, 2, 3), "unitMoved", {"unitId": "db-btp", "fromParentId": "dbk",
                                   "toParentId": "db-chinhphu"},
     source={"number": "243-QĐ/TW", "issuer": "Bộ Chính trị",
             "date": d(2025, 1, 24)})
emit(d(2025, 2, 3), "unitMoved", {"unitId": "db-btctw", "fromParentId": "dbk",
                                   "toParentId": "db-cqdtw"})
emit(d(2025, 2, 3), "unitDissolved", {
    "unitId": "dbk", "reason": "DISSOLUTION_REASON_ENDED_BY_RESTRUCTURING",
    "successorUnitIds": ["db-chinhphu", "db-cqdtw"]})
unit("db-cqd-dongnai", "UPPER_BASE",
     "Đảng bộ các cơ quan Đảng, đoàn thể, HĐND, tư pháp tỉnh Đồng Nai",
     "dbt-dongnai", d(2025, 2, 14), predecessors=["dbk-dongnai"])
unit("db-ubnd-dongnai", "UPPER_BASE", "Đảng bộ Ủy ban nhân dân tỉnh Đồng Nai",
     "dbt-dongnai", d(2025, 2, 14), predecessors=["dbk-dongnai"])
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
    "successorUnitIds": ["db-cqd-dongnai", "db-ubnd-dongnai"]})
unit("dbt-dongnai-2025", "DIRECT_UNDER_CENTRAL", "Đảng bộ tỉnh Đồng Nai",
     None, d(2025, 7, 1), predecessors=["dbt-dongnai", "dbt-binhphuoc"])
emit(d(2025, 7, 1), "unitsMerged", {
    "sourceUnitIds": ["dbt-dongnai", "dbt-binhphuoc"],
    "targetUnitId": "dbt-dongnai-2025", "mode": "MERGE_MODE_CONSOLIDATION"},
    source={"number": "202/2025/QH15", "issuer": "Quốc hội",
            "date": d(2025, 6, 12)})

for line in LINES:
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    assert unicodedata.normalize("NFC", text) == text
    sys.stdout.write(text + "\n")
print(f"make_demo: wrote {len(LINES)} events", file=sys.stderr)
