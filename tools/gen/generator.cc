#include "tools/gen/generator.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace nenep::gen {
namespace {

// splitmix64: the same sequence on every platform and library version.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int Below(int n) {
    return static_cast<int>(Next() % static_cast<uint64_t>(n));
  }
  int Between(int lo, int hi) { return lo + Below(hi - lo + 1); }
  bool Chance(double p) {
    return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p;
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(static_cast<int>(v.size()))];
  }

 private:
  uint64_t state_;
};

const std::vector<std::string> kAgencies = {
    "Bộ Tư pháp",
    "Bộ Tài chính",
    "Bộ Kế hoạch và Đầu tư",
    "Bộ Công Thương",
    "Bộ Nông nghiệp và Phát triển nông thôn",
    "Bộ Giao thông vận tải",
    "Bộ Xây dựng",
    "Bộ Tài nguyên và Môi trường",
    "Bộ Thông tin và Truyền thông",
    "Bộ Lao động – Thương binh và Xã hội",
    "Bộ Văn hóa, Thể thao và Du lịch",
    "Bộ Khoa học và Công nghệ",
    "Bộ Giáo dục và Đào tạo",
    "Bộ Y tế",
    "Bộ Nội vụ",
    "Bộ Ngoại giao",
    "Ngân hàng Nhà nước Việt Nam",
    "Thanh tra Chính phủ",
    "Ủy ban Dân tộc",
    "Văn phòng Chính phủ",
    "Tòa án nhân dân tối cao",
    "Viện kiểm sát nhân dân tối cao",
    "Kiểm toán Nhà nước",
    "Ban Tổ chức Trung ương",
    "Ban Tuyên giáo Trung ương",
    "Ban Dân vận Trung ương",
    "Ban Kinh tế Trung ương",
    "Ban Nội chính Trung ương",
    "Ủy ban Kiểm tra Trung ương",
    "Văn phòng Trung ương Đảng",
    "Văn phòng Quốc hội",
    "Văn phòng Chủ tịch nước",
    "Học viện Chính trị quốc gia Hồ Chí Minh",
    "Báo Nhân Dân",
    "Tạp chí Cộng sản",
    "Đài Tiếng nói Việt Nam",
    "Đài Truyền hình Việt Nam",
    "Thông tấn xã Việt Nam",
    "Bảo hiểm xã hội Việt Nam",
    "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam",
    "Tổng Liên đoàn Lao động Việt Nam",
    "Trung ương Đoàn Thanh niên Cộng sản Hồ Chí Minh",
    "Trung ương Hội Liên hiệp Phụ nữ Việt Nam",
    "Trung ương Hội Nông dân Việt Nam",
    "Trung ương Hội Cựu chiến binh Việt Nam",
    "Viện Hàn lâm Khoa học xã hội Việt Nam",
    "Viện Hàn lâm Khoa học và Công nghệ Việt Nam",
    "Đại học Quốc gia Hà Nội",
    "Ngân hàng Phát triển Việt Nam",
    "Ngân hàng Chính sách xã hội",
    "Tổng cục Thi hành án dân sự",
    "Tổng cục Thuế",
    "Tổng cục Hải quan",
    "Kho bạc Nhà nước",
    "Tổng cục Thống kê",
    "Ủy ban Chứng khoán Nhà nước",
    "Cục Hàng không Việt Nam",
    "Tổng cục Đường bộ Việt Nam",
    "Hội Chữ thập đỏ Việt Nam",
    "Liên hiệp các Hội Khoa học và Kỹ thuật Việt Nam",
    "Hội Nhà báo Việt Nam",
    "Hội Luật gia Việt Nam",
    "Liên minh Hợp tác xã Việt Nam"};

const std::vector<std::string> kSubAgencies = {"Văn phòng",
                                               "Tổng cục",
                                               "Cục Quản lý",
                                               "Viện Nghiên cứu",
                                               "Trường Cán bộ",
                                               "Trung tâm Thông tin",
                                               "Báo",
                                               "Tạp chí",
                                               "Cục Công nghệ thông tin",
                                               "Học viện",
                                               "Nhà xuất bản",
                                               "Thanh tra"};

const std::vector<std::string> kDepartments = {
    "Vụ Tổ chức cán bộ",
    "Vụ Pháp chế",
    "Vụ Kế hoạch – Tài chính",
    "Vụ Hợp tác quốc tế",
    "Văn phòng",
    "Thanh tra",
    "Vụ Tổng hợp",
    "Vụ Thi đua – Khen thưởng",
    "Phòng Hành chính – Quản trị",
    "Vụ Chính sách",
    "Vụ Kiểm tra",
    "Vụ Giám sát",
    "Phòng Kế toán",
    "Vụ Khoa học và Công nghệ",
    "Vụ Đào tạo",
    "Phòng Nghiệp vụ",
    "Vụ Giải quyết khiếu nại, tố cáo",
    "Vụ Các vấn đề chung về xây dựng pháp luật",
    "Phòng Tổng hợp",
    "Trung tâm Dữ liệu",
    "Ban Biên tập",
    "Phòng Truyền thông",
    "Vụ Địa phương",
    "Phòng Đối ngoại"};

const std::vector<std::string> kProvinces = {
    "thành phố Hà Nội",  "Thành phố Hồ Chí Minh", "thành phố Hải Phòng",
    "thành phố Đà Nẵng", "thành phố Cần Thơ",     "thành phố Huế",
    "tỉnh Lai Châu",     "tỉnh Điện Biên",        "tỉnh Sơn La",
    "tỉnh Lạng Sơn",     "tỉnh Quảng Ninh",       "tỉnh Thanh Hóa",
    "tỉnh Nghệ An",      "tỉnh Hà Tĩnh",          "tỉnh Cao Bằng",
    "tỉnh Tuyên Quang",  "tỉnh Lào Cai",          "tỉnh Thái Nguyên",
    "tỉnh Phú Thọ",      "tỉnh Bắc Ninh",         "tỉnh Hưng Yên",
    "tỉnh Ninh Bình",    "tỉnh Quảng Trị",        "tỉnh Quảng Ngãi",
    "tỉnh Gia Lai",      "tỉnh Khánh Hòa",        "tỉnh Lâm Đồng",
    "tỉnh Đắk Lắk",      "tỉnh Đồng Nai",         "tỉnh Tây Ninh",
    "tỉnh Vĩnh Long",    "tỉnh Đồng Tháp",        "tỉnh Cà Mau",
    "tỉnh An Giang"};

const std::vector<std::string> kCentral = {
    "Đảng bộ các cơ quan Đảng Trung ương", "Đảng bộ Chính phủ",
    "Đảng bộ Quốc hội",
    "Đảng bộ Mặt trận Tổ quốc Việt Nam và các đoàn thể Trung ương"};

const std::vector<std::string> kFamily = {
    "Nguyễn", "Trần", "Lê",  "Phạm", "Hoàng", "Huỳnh", "Phan",  "Vũ",
    "Võ",     "Đặng", "Bùi", "Đỗ",   "Hồ",    "Ngô",   "Dương", "Lý"};
const std::vector<std::string> kMiddle = {"Văn",  "Thị",   "Hữu",  "Đức",
                                          "Minh", "Thanh", "Ngọc", "Quang",
                                          "Thu",  "Kim",   "Xuân", "Thành"};
const std::vector<std::string> kGiven = {
    "An",    "Bình",   "Cường", "Dũng", "Giang", "Hà",    "Hải",   "Hạnh",
    "Hoa",   "Hùng",   "Hương", "Lan",  "Linh",  "Long",  "Mai",   "Nam",
    "Nga",   "Phương", "Quân",  "Sơn",  "Tâm",   "Thảo",  "Thắng", "Trang",
    "Trung", "Tuấn",   "Việt",  "Yến",  "Đào",   "Khánh", "Nhung", "Hiếu"};

const std::vector<std::string> kHcmStories = {
    "Bác Hồ với đức tính cần, kiệm",
    "Bác Hồ và việc cai thuốc lá",
    "Chiếc đồng hồ của Bác",
    "Bác Hồ với việc tiết kiệm thời gian",
    "Thư Bác gửi gia đình bác sĩ Vũ Đình Tụng",
    "Bác Hồ với tinh thần tự học",
    "Bác Hồ và những người nông dân",
    "Bác Hồ nêu gương trong lao động",
    "Bác Hồ với tinh thần đoàn kết",
    "Bác Hồ và bài học về lòng nhân ái"};

const std::vector<std::string> kThemes = {
    "Tư tưởng, đạo đức, phong cách Hồ Chí Minh về văn hóa",
    "Học tập và làm theo Bác về ý chí tự lực, tự cường",
    "Trách nhiệm nêu gương của cán bộ, đảng viên",
    "Tư tưởng Hồ Chí Minh về phòng, chống tham nhũng, tiêu cực",
    "Phong cách làm việc khoa học, sát cơ sở của Bác",
    "Tư tưởng Hồ Chí Minh về xây dựng Đảng trong sạch, vững mạnh"};

const std::vector<std::string> kCommitmentItems = {
    "Hoàn thành đúng hạn mọi nhiệm vụ được giao",
    "Tiết kiệm văn phòng phẩm và điện năng tại cơ quan",
    "Không sử dụng điện thoại trong giờ họp",
    "Đọc ít nhất một cuốn sách về Bác mỗi quý",
    "Giải quyết hồ sơ của người dân đúng hoặc trước hạn",
    "Tham gia đầy đủ sinh hoạt chi bộ và đoàn thể",
    "Giúp đỡ một đảng viên trẻ trong công tác chuyên môn",
    "Không nhận quà biếu liên quan đến công việc",
    "Đi làm đúng giờ, không về sớm",
    "Nêu gương trong gia đình và nơi cư trú"};

const v1::VirtueCategory kCategories[] = {
    v1::VIRTUE_CATEGORY_CAN,           v1::VIRTUE_CATEGORY_KIEM,
    v1::VIRTUE_CATEGORY_LIEM,          v1::VIRTUE_CATEGORY_CHINH,
    v1::VIRTUE_CATEGORY_NEU_GUONG,     v1::VIRTUE_CATEGORY_CHUYEN_MON,
    v1::VIRTUE_CATEGORY_CHI_CONG_VO_TU};

struct Unit {
  std::string id;
  std::string name;
  v1::UnitKind kind = v1::UNIT_KIND_UNSPECIFIED;
  int parent = -1;
  int dang_bo = -1;  // the subordinate đảng bộ it belongs to (for plans)
};

bool IsCell(v1::UnitKind k) {
  return k == v1::UNIT_KIND_BASE_CELL || k == v1::UNIT_KIND_ATTACHED_CELL;
}

class Generator {
 public:
  Generator(const GenOptions& o,
            const std::function<void(const v1::Event&)>& emit, GenStats* stats)
      : o_(o), rng_(o.seed), emit_(emit), stats_(stats) {}

  void Run() {
    if (o_.scale == "national") {
      BuildNational();
    } else {
      BuildBloc(o_.scale == "tiny");
    }
    EmitUnits();
    EmitMembers();
    for (int month = 1; month <= 12; ++month) Month(month);
  }

 private:
  // --- structure -----------------------------------------------------------

  int AddUnit(const std::string& id, const std::string& name, v1::UnitKind kind,
              int parent) {
    Unit u;
    u.id = id;
    u.name = name;
    u.kind = kind;
    u.parent = parent;
    u.dang_bo = parent < 0                    ? -1
                : units_[parent].dang_bo >= 0 ? units_[parent].dang_bo
                : units_[parent].parent < 0   ? static_cast<int>(units_.size())
                                              : -1;
    units_.push_back(std::move(u));
    const int index = static_cast<int>(units_.size()) - 1;
    if (IsCell(kind)) {
      cells_.push_back(index);
      const int d = units_[index].dang_bo;
      if (d >= 0) {
        if (dang_bo_cells_.size() <= static_cast<size_t>(d)) {
          dang_bo_cells_.resize(d + 1);
        }
        dang_bo_cells_[d].push_back(index);
      }
    }
    return index;
  }

  // Cells of a parent named after departments, numbered when a name repeats.
  void AddCells(int parent, int count, v1::UnitKind kind) {
    for (int i = 0; i < count; ++i) {
      const std::string& dept = kDepartments[i % kDepartments.size()];
      const int round = static_cast<int>(i / kDepartments.size());
      AddUnit(absl::StrCat(units_[parent].id, ".c", i + 1),
              round == 0 ? absl::StrCat("Chi bộ ", dept)
                         : absl::StrCat("Chi bộ ", dept, " số ", round + 1),
              kind, parent);
    }
  }

  // A đảng bộ cơ sở with attached cells and sometimes a đảng bộ bộ phận.
  void AddBase(int parent, const std::string& id, const std::string& name,
               int cells_lo, int cells_hi, double sub_chance) {
    const int base =
        AddUnit(id, name, v1::UNIT_KIND_BASE_PARTY_COMMITTEE, parent);
    AddCells(base, rng_.Between(cells_lo, cells_hi),
             v1::UNIT_KIND_ATTACHED_CELL);
    if (rng_.Chance(sub_chance)) {
      const int sub =
          AddUnit(absl::StrCat(id, ".s1"),
                  absl::StrCat("Đảng bộ bộ phận ", rng_.Pick(kSubAgencies)),
                  v1::UNIT_KIND_SUB_PARTY_COMMITTEE, base);
      AddCells(sub, rng_.Between(3, 6), v1::UNIT_KIND_ATTACHED_CELL);
    }
  }

  void BuildBloc(bool tiny) {
    const int root = AddUnit("dbk", "Đảng bộ Khối các cơ quan Trung ương",
                             v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, -1);
    const int upper = tiny ? 1 : 34;
    const int bases = tiny ? 1 : 27;
    for (int d = 0; d < upper + bases; ++d) {
      const std::string id = absl::StrFormat("dbk.d%02d", d + 1);
      const std::string& agency = kAgencies[d % kAgencies.size()];
      if (d < upper) {
        const int ub = AddUnit(id, absl::StrCat("Đảng bộ ", agency),
                               v1::UNIT_KIND_UPPER_BASE, root);
        const int n = tiny ? 1 : rng_.Between(3, 8);
        for (int b = 0; b < n; ++b) {
          AddBase(
              ub, absl::StrCat(id, ".b", b + 1),
              absl::StrCat("Đảng bộ ", kSubAgencies[b % kSubAgencies.size()],
                           " ", agency),
              tiny ? 2 : 6, tiny ? 2 : 27, tiny ? 0 : 0.3);
        }
        AddCells(ub, tiny ? 1 : rng_.Between(5, 16), v1::UNIT_KIND_BASE_CELL);
      } else {
        AddBase(root, id, absl::StrCat("Đảng bộ ", agency), tiny ? 2 : 25,
                tiny ? 2 : 115, tiny ? 0 : 0.2);
      }
    }
    members_per_cell_lo_ = 5;
    members_per_cell_hi_ = 21;
  }

  void BuildNational() {
    std::vector<std::string> roots;
    for (const std::string& p : kProvinces) {
      roots.push_back(absl::StrCat("Đảng bộ ", p));
    }
    for (const std::string& c : kCentral) roots.push_back(c);
    for (size_t r = 0; r < roots.size(); ++r) {
      const std::string rid = absl::StrFormat("p%02d", r + 1);
      const int root =
          AddUnit(rid, roots[r], v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, -1);
      const bool province = r < kProvinces.size();
      const int uppers = rng_.Between(90, 110);
      for (int u = 0; u < uppers; ++u) {
        const std::string uid = absl::StrFormat("%s.u%03d", rid, u + 1);
        const std::string name =
            province
                ? absl::StrCat(u % 3 == 0 ? "Đảng bộ phường " : "Đảng bộ xã ",
                               u + 1)
                : absl::StrCat("Đảng bộ ", kAgencies[u % kAgencies.size()]);
        const int ub = AddUnit(uid, name, v1::UNIT_KIND_UPPER_BASE, root);
        const int bases = rng_.Between(4, 8);
        for (int b = 0; b < bases; ++b) {
          AddBase(
              ub, absl::StrCat(uid, ".b", b + 1),
              absl::StrCat("Đảng bộ ", kSubAgencies[b % kSubAgencies.size()],
                           " ", b + 1),
              4, 13, 0.2);
        }
        AddCells(ub, rng_.Between(5, 14), v1::UNIT_KIND_BASE_CELL);
      }
    }
    members_per_cell_lo_ = 10;
    members_per_cell_hi_ = 35;
  }

  // --- emitting ------------------------------------------------------------

  static v1::Date Date(int y, int m, int d) {
    v1::Date date;
    date.set_year(y);
    date.set_month(m);
    date.set_day(d);
    return date;
  }

  void Emit(const v1::Event& e) {
    emit_(e);
    ++stats_->events;
    const google::protobuf::FieldDescriptor* f =
        v1::Event::descriptor()->FindFieldByNumber(e.payload_case());
    ++stats_->by_type[f->message_type()->name()];
  }

  std::string PersonName() {
    return absl::StrCat(rng_.Pick(kFamily), " ", rng_.Pick(kMiddle), " ",
                        rng_.Pick(kGiven));
  }

  void EmitUnits() {
    for (const Unit& u : units_) {
      v1::Event e;
      *e.mutable_business_date() = Date(o_.year - 3, 1, 2);
      v1::UnitCreated* c = e.mutable_unit_created();
      c->set_unit_id(u.id);
      c->set_kind(u.kind);
      c->set_name(u.name);
      if (u.parent >= 0) c->set_parent_id(units_[u.parent].id);
      c->set_setting(v1::UNIT_SETTING_STATE_AGENCY);
      c->set_is_base_org(u.kind == v1::UNIT_KIND_BASE_PARTY_COMMITTEE ||
                         u.kind == v1::UNIT_KIND_BASE_CELL);
      e.set_origin(v1::ORIGIN_IMPORT);
      Emit(e);
    }
    stats_->units = static_cast<int64_t>(units_.size());
    stats_->cells = static_cast<int64_t>(cells_.size());
  }

  void EmitMembers() {
    cell_members_.assign(units_.size(), 0);
    for (int cell : cells_) {
      const int n = rng_.Between(members_per_cell_lo_, members_per_cell_hi_);
      for (int k = 0; k < n; ++k) {
        const int32_t m = static_cast<int32_t>(member_cell_.size());
        member_cell_.push_back(cell);
        ++cell_members_[cell];
        v1::Event e;
        *e.mutable_business_date() =
            Date(o_.year - 1, rng_.Between(1, 12), rng_.Between(1, 28));
        v1::MemberJoined* j = e.mutable_member_joined();
        j->set_member_id(MemberId(m));
        j->set_cell_id(units_[cell].id);
        j->set_display_name(PersonName());
        j->set_status(rng_.Chance(0.07) ? v1::MEMBER_STATUS_PROBATIONARY
                                        : v1::MEMBER_STATUS_OFFICIAL);
        j->set_how(v1::JOIN_KIND_INITIAL_LOAD);
        e.set_origin(v1::ORIGIN_IMPORT);
        Emit(e);
      }
    }
    registered_.assign(member_cell_.size(), false);
    stats_->members = static_cast<int64_t>(member_cell_.size());
  }

  static std::string MemberId(int32_t m) { return absl::StrCat("m", m + 1); }

  // Transfers and departures take effect on the 1st of the month, before
  // that month's sessions; a cell keeps at least 3 members.
  void MemberChanges(int month) {
    const int64_t n = static_cast<int64_t>(member_cell_.size());
    const int64_t transfers = std::max<int64_t>(1, n * 3 / 1000);
    const int64_t leaves = std::max<int64_t>(1, n / 2000);
    for (int64_t i = 0; i < transfers + leaves; ++i) {
      const int32_t m = static_cast<int32_t>(rng_.Next() % n);
      const int from = member_cell_[m];
      if (from < 0 || cell_members_[from] <= 3) continue;
      v1::Event e;
      *e.mutable_business_date() = Date(o_.year, month, 1);
      if (i < transfers) {
        const int to = cells_[rng_.Below(static_cast<int>(cells_.size()))];
        if (to == from) continue;
        v1::MemberTransferred* t = e.mutable_member_transferred();
        t->set_member_id(MemberId(m));
        t->set_from_cell_id(units_[from].id);
        t->set_to_cell_id(units_[to].id);
        t->set_type(units_[to].dang_bo == units_[from].dang_bo
                        ? v1::TRANSFER_TYPE_INTERNAL
                        : v1::TRANSFER_TYPE_OFFICIAL);
        member_cell_[m] = to;
        ++cell_members_[to];
      } else {
        v1::MemberLeft* l = e.mutable_member_left();
        l->set_member_id(MemberId(m));
        l->set_cell_id(units_[from].id);
        l->set_reason(rng_.Chance(0.5)
                          ? v1::LEAVE_REASON_DECEASED
                          : v1::LEAVE_REASON_TRANSFERRED_OUT_OF_SCOPE);
        member_cell_[m] = -1;
      }
      --cell_members_[from];
      Emit(e);
    }
  }

  void Session(int cell, int month, bool thematic) {
    const int day = thematic ? rng_.Between(10, 28) : rng_.Between(5, 25);
    v1::Event e;
    *e.mutable_business_date() = Date(o_.year, month, day);
    v1::SessionHeld* s = e.mutable_session_held();
    s->set_session_id(absl::StrFormat("%s.%d-%02d%c", units_[cell].id, o_.year,
                                      month, thematic ? 't' : 'r'));
    s->set_unit_id(units_[cell].id);
    s->set_kind(thematic ? v1::SESSION_KIND_THEMATIC
                         : v1::SESSION_KIND_REGULAR);
    s->mutable_for_period()->set_year(o_.year);
    if (thematic) {
      s->mutable_for_period()->set_quarter((month - 1) / 3 + 1);
      s->set_topic(rng_.Pick(kThemes));
      s->add_tags("HCM");
      s->add_tags("KL01");
    } else {
      s->mutable_for_period()->set_month(month);
      s->set_topic("Sinh hoạt chi bộ thường kỳ");
    }
    if (thematic || rng_.Chance(0.7)) {
      v1::HcmItem* h = s->add_hcm_items();
      h->set_type(v1::HCM_ITEM_TYPE_STORY);
      h->set_title(rng_.Pick(kHcmStories));
    }
    const int convened = cell_members_[cell];
    int absent = 0;
    for (int i = 0; i < convened; ++i) absent += rng_.Chance(0.08) ? 1 : 0;
    const int unexcused = absent > 0 && rng_.Chance(0.3) ? 1 : 0;
    v1::Attendance* a = s->mutable_attendance();
    a->set_convened(convened);
    a->set_present(convened - absent);
    a->set_absent_excused(absent - unexcused);
    a->set_absent_unexcused(unexcused);
    s->set_duration_minutes(rng_.Between(90, 150));
    s->set_format(v1::SESSION_FORMAT_IN_PERSON);
    Emit(e);
  }

  void Registrations(int month) {
    // January and February: most members register their commitments.
    for (size_t m = 0; m < member_cell_.size(); ++m) {
      const int cell = member_cell_[m];
      if (cell < 0 || registered_[m]) continue;
      if (!rng_.Chance(month == 1 ? 0.75 : 0.6)) continue;
      registered_[m] = true;
      v1::Event e;
      *e.mutable_business_date() = Date(o_.year, month, rng_.Between(10, 28));
      v1::CommitmentRegistered* c = e.mutable_commitment_registered();
      c->set_commitment_id(
          absl::StrCat("cm.", MemberId(static_cast<int32_t>(m)), ".", o_.year));
      c->set_member_id(MemberId(static_cast<int32_t>(m)));
      c->set_cell_id(units_[cell].id);
      c->set_campaign(v1::CAMPAIGN_KL01);
      c->mutable_period()->set_year(o_.year);
      const int items = rng_.Between(2, 4);
      for (int i = 0; i < items; ++i) {
        v1::CommitmentItem* item = c->add_items();
        item->set_text(kCommitmentItems[(m + i * 3) % kCommitmentItems.size()]);
        item->set_category(kCategories[(m + i) % 7]);
      }
      Emit(e);
    }
  }

  void Evaluations() {
    for (size_t m = 0; m < member_cell_.size(); ++m) {
      if (!registered_[m] || member_cell_[m] < 0) continue;
      if (!rng_.Chance(0.93)) continue;
      v1::Event e;
      *e.mutable_business_date() = Date(o_.year, 12, rng_.Between(15, 28));
      v1::CommitmentEvaluated* c = e.mutable_commitment_evaluated();
      c->set_commitment_id(
          absl::StrCat("cm.", MemberId(static_cast<int32_t>(m)), ".", o_.year));
      c->mutable_period()->set_year(o_.year);
      c->set_outcome(rng_.Chance(0.85) ? v1::EVALUATION_OUTCOME_FULFILLED
                                       : v1::EVALUATION_OUTCOME_NOT_FULFILLED);
      c->set_evaluator("Chi ủy");
      Emit(e);
    }
  }

  // The roots issue annual plans in January; their direct children
  // implement them, mostly on time.
  void Plans(int month) {
    for (size_t u = 0; u < units_.size(); ++u) {
      const Unit& unit = units_[u];
      if (month == 1 && unit.parent < 0) {
        v1::Event e;
        *e.mutable_business_date() = Date(o_.year, 1, 8);
        v1::PlanIssued* p = e.mutable_plan_issued();
        p->set_plan_id(absl::StrCat(unit.id, ".kh", o_.year));
        p->set_issuer_unit_id(unit.id);
        p->set_issuer_organ("Ban Thường vụ");
        p->mutable_document()->set_number("01-KH/ĐU");
        p->mutable_document()->set_issuer(
            absl::StrCat("Ban Thường vụ ", unit.name));
        *p->mutable_document()->mutable_date() = Date(o_.year, 1, 8);
        p->mutable_document()->set_title(absl::StrCat(
            "Kế hoạch học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí "
            "Minh năm ",
            o_.year));
        p->set_kind(v1::PLAN_KIND_ANNUAL);
        p->set_campaign(v1::CAMPAIGN_KL01);
        p->add_implements_documents("01-KL/TW");
        *p->mutable_period()->mutable_start() = Date(o_.year, 1, 1);
        *p->mutable_period()->mutable_end() = Date(o_.year, 12, 31);
        p->add_content_items("Học tập chuyên đề năm");
        p->add_content_items("Đăng ký làm theo của đảng viên");
        v1::PlanRequirement* r = p->add_requirements();
        r->set_action(v1::REQUIREMENT_ACTION_ISSUE_PLAN);
        r->set_applies_to(v1::APPLIES_TO_DIRECT_CHILDREN);
        *r->mutable_due_date() = Date(o_.year, 2, 15);
        Emit(e);
      }
      if (unit.parent < 0 || units_[unit.parent].parent >= 0 ||
          IsCell(unit.kind)) {
        continue;  // only the roots' direct children implement
      }
      // Decide once, in January, when this unit issues its plan.
      if (month == 1) {
        const double roll = static_cast<double>(rng_.Below(1000)) / 1000;
        plan_month_.resize(units_.size(), 0);
        plan_day_.resize(units_.size(), 0);
        if (roll < 0.55) {
          plan_month_[u] = 1, plan_day_[u] = rng_.Between(15, 31);
        } else if (roll < 0.90) {
          plan_month_[u] = 2, plan_day_[u] = rng_.Between(1, 15);
        } else if (roll < 0.95) {
          plan_month_[u] = 3, plan_day_[u] = rng_.Between(1, 20);  // late
        }
      }
      if (plan_month_.size() > u && plan_month_[u] == month) {
        v1::Event e;
        *e.mutable_business_date() = Date(o_.year, month, plan_day_[u]);
        v1::PlanIssued* p = e.mutable_plan_issued();
        p->set_plan_id(absl::StrCat(unit.id, ".kh", o_.year));
        p->set_issuer_unit_id(unit.id);
        p->set_issuer_organ("Đảng ủy");
        p->mutable_document()->set_number("02-KH/ĐU");
        p->mutable_document()->set_issuer(absl::StrCat("Đảng ủy ", unit.name));
        *p->mutable_document()->mutable_date() = *e.mutable_business_date();
        p->mutable_document()->set_title(
            absl::StrCat("Kế hoạch thực hiện năm ", o_.year));
        p->set_kind(v1::PLAN_KIND_IMPLEMENTATION);
        p->set_campaign(v1::CAMPAIGN_KL01);
        p->set_implements_plan_id(
            absl::StrCat(units_[unit.parent].id, ".kh", o_.year));
        *p->mutable_period()->mutable_start() = Date(o_.year, 1, 1);
        *p->mutable_period()->mutable_end() = Date(o_.year, 12, 31);
        Emit(e);
      }
    }
  }

  // May: each root gives a Bằng khen to ~1% of its cells and a few members.
  // December: each subordinate đảng bộ gives Giấy khen to 1-3 cells.
  void Awards(int month) {
    if (month == 5) {
      for (size_t u = 0; u < units_.size(); ++u) {
        if (units_[u].parent >= 0) continue;
        v1::Event e;
        *e.mutable_business_date() = Date(o_.year, 5, 19);
        v1::AwardGiven* a = e.mutable_award_given();
        a->set_award_id(absl::StrCat(units_[u].id, ".bk", o_.year));
        a->set_kind(v1::AWARD_KIND_BANG_KHEN);
        a->mutable_issuer()->set_system(v1::ISSUER_SYSTEM_PARTY);
        a->mutable_issuer()->set_level(v1::ISSUER_LEVEL_MINISTRY_PROVINCE);
        a->mutable_issuer()->set_organ(
            absl::StrCat("Ban Thường vụ ", units_[u].name));
        a->mutable_issuer()->set_unit_id(units_[u].id);
        a->set_campaign(v1::CAMPAIGN_KL01);
        a->set_title(
            "Đã có thành tích xuất sắc trong học tập và làm theo tư tưởng, đạo "
            "đức, phong cách Hồ Chí Minh");
        *a->mutable_achievement_period()->mutable_start() =
            Date(o_.year - 1, 1, 1);
        *a->mutable_achievement_period()->mutable_end() =
            Date(o_.year - 1, 12, 31);
        for (int cell : cells_) {
          if (Root(cell) != static_cast<int>(u) || !rng_.Chance(0.01)) continue;
          v1::AwardRecipient* r = a->add_recipients();
          r->set_type(v1::RECIPIENT_TYPE_PARTY_UNIT);
          r->set_unit_id(units_[cell].id);
          if (a->recipients_size() >= 400) break;  // one decision's list
        }
        if (a->recipients().empty()) continue;
        Emit(e);
      }
    }
    if (month == 12) {
      for (size_t u = 0; u < units_.size(); ++u) {
        const Unit& unit = units_[u];
        if (unit.parent < 0 || units_[unit.parent].parent >= 0 ||
            IsCell(unit.kind)) {
          continue;
        }
        if (dang_bo_cells_.size() <= u || dang_bo_cells_[u].empty()) continue;
        const std::vector<int>& own = dang_bo_cells_[u];
        v1::Event e;
        *e.mutable_business_date() = Date(o_.year, 12, rng_.Between(20, 28));
        v1::AwardGiven* a = e.mutable_award_given();
        a->set_award_id(absl::StrCat(unit.id, ".gk", o_.year));
        a->set_kind(v1::AWARD_KIND_GIAY_KHEN);
        a->mutable_issuer()->set_system(v1::ISSUER_SYSTEM_PARTY);
        a->mutable_issuer()->set_level(unit.kind == v1::UNIT_KIND_UPPER_BASE
                                           ? v1::ISSUER_LEVEL_UPPER_BASE
                                           : v1::ISSUER_LEVEL_BASE);
        a->mutable_issuer()->set_organ(absl::StrCat("Đảng ủy ", unit.name));
        a->mutable_issuer()->set_unit_id(unit.id);
        a->set_campaign(v1::CAMPAIGN_KL01);
        const int n = rng_.Between(1, 3);
        for (int i = 0; i < n && i < static_cast<int>(own.size()); ++i) {
          v1::AwardRecipient* r = a->add_recipients();
          r->set_type(v1::RECIPIENT_TYPE_PARTY_UNIT);
          r->set_unit_id(units_[own[(i * 7) % own.size()]].id);
        }
        *a->mutable_achievement_period()->mutable_start() = Date(o_.year, 1, 1);
        *a->mutable_achievement_period()->mutable_end() = Date(o_.year, 12, 31);
        Emit(e);
      }
    }
  }

  int Root(int u) const {
    while (units_[u].parent >= 0) u = units_[u].parent;
    return u;
  }

  void Month(int month) {
    MemberChanges(month);
    Plans(month);
    if (month <= 2) Registrations(month);
    for (int cell : cells_) {
      if (rng_.Chance(0.95)) Session(cell, month, /*thematic=*/false);
      if (month % 3 == 0 && rng_.Chance(0.92)) {
        Session(cell, month, /*thematic=*/true);
      }
    }
    Awards(month);
    if (month == 12) Evaluations();
  }

  const GenOptions o_;
  Rng rng_;
  const std::function<void(const v1::Event&)>& emit_;
  GenStats* stats_;
  std::vector<Unit> units_;
  std::vector<int> cells_;
  std::vector<std::vector<int>> dang_bo_cells_;  // subordinate đảng bộ -> cells
  std::vector<int32_t> member_cell_;  // member -> cell index, -1 once left
  std::vector<int> cell_members_;     // unit index -> members now
  std::vector<bool> registered_;
  std::vector<int> plan_month_, plan_day_;
  int members_per_cell_lo_ = 5;
  int members_per_cell_hi_ = 21;
};

}  // namespace

absl::Status Generate(const GenOptions& options,
                      const std::function<void(const v1::Event&)>& emit,
                      GenStats* stats) {
  if (options.scale != "tiny" && options.scale != "bloc" &&
      options.scale != "national") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--scale: '", options.scale, "' is not tiny, bloc or national"));
  }
  if (options.year < 1950 || options.year > 2190) {
    return absl::InvalidArgumentError("--year must be within 1950..2190");
  }
  *stats = GenStats();
  Generator(options, emit, stats).Run();
  return absl::OkStatus();
}

}  // namespace nenep::gen
