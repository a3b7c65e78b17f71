#include "tools/gen/generator.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/json_util.h"
#include "nenep/v1/log.pb.h"
#include "services/common/validation.h"

namespace nenep::gen {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// ---------------------------------------------------------------------------
// Randomness: splitmix64, the same sequence on every platform and library.

uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A value derived from (seed, tag, index) alone, so that a later event can
// recompute what an earlier one drew (e.g. a commitment's items).
uint64_t Derive(uint64_t seed, uint64_t tag, uint64_t index) {
  return Mix64(Mix64(seed + 0x9E3779B97F4A7C15ull * (tag + 1)) ^ index);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(Mix64(seed ^ 0x6E656E65702D67ull)) {}
  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ull;
    return Mix64(state_);
  }
  // Uniform in [0, n), n >= 1 (the modulo bias is below 2^-40 here).
  int Below(int n) {
    return static_cast<int>(Next() % static_cast<uint64_t>(n));
  }
  int Between(int lo, int hi) { return lo + Below(hi - lo + 1); }
  bool Chance(double p) {
    return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p;
  }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(static_cast<int>(N))];
  }

 private:
  uint64_t state_;
};

// Tags for Derive().
constexpr uint64_t kTagMemberItems = 1;
constexpr uint64_t kTagCellItems = 2;

// ---------------------------------------------------------------------------
// Vocabulary. Every string is in NFC (StreamChecker verifies it).

// Đảng bộ directly under the bloc that have base đảng bộ of their own.
constexpr const char* kUpperAgencies[] = {
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
    "Văn phòng Chính phủ",
    "Tòa án nhân dân tối cao",
    "Viện kiểm sát nhân dân tối cao",
    "Kiểm toán Nhà nước",
    "Bảo hiểm xã hội Việt Nam",
    "Học viện Chính trị quốc gia Hồ Chí Minh",
    "Đài Tiếng nói Việt Nam",
    "Đài Truyền hình Việt Nam",
    "Thông tấn xã Việt Nam",
    "Viện Hàn lâm Khoa học xã hội Việt Nam",
    "Viện Hàn lâm Khoa học và Công nghệ Việt Nam",
    "Đại học Quốc gia Hà Nội",
    "Đại học Quốc gia Thành phố Hồ Chí Minh",
    "Ngân hàng Chính sách xã hội",
    "Ngân hàng Phát triển Việt Nam",
    "Ủy ban Dân tộc"};
constexpr int kUpperAgencyCount = sizeof(kUpperAgencies) / sizeof(char*);

// Đảng bộ directly under the bloc whose cells are attached to them.
constexpr const char* kBaseAgencies[] = {
    "Văn phòng Trung ương Đảng",
    "Ban Tổ chức Trung ương",
    "Ban Tuyên giáo Trung ương",
    "Ban Dân vận Trung ương",
    "Ban Kinh tế Trung ương",
    "Ban Nội chính Trung ương",
    "Ban Đối ngoại Trung ương",
    "Ủy ban Kiểm tra Trung ương",
    "Hội đồng Lý luận Trung ương",
    "Báo Nhân Dân",
    "Tạp chí Cộng sản",
    "Nhà xuất bản Chính trị quốc gia Sự thật",
    "Văn phòng Quốc hội",
    "Văn phòng Chủ tịch nước",
    "Ban Quản lý Lăng Chủ tịch Hồ Chí Minh",
    "Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam",
    "Tổng Liên đoàn Lao động Việt Nam",
    "Trung ương Đoàn Thanh niên Cộng sản Hồ Chí Minh",
    "Trung ương Hội Liên hiệp Phụ nữ Việt Nam",
    "Trung ương Hội Nông dân Việt Nam",
    "Trung ương Hội Cựu chiến binh Việt Nam",
    "Liên hiệp các Hội Khoa học và Kỹ thuật Việt Nam",
    "Liên hiệp các Hội Văn học nghệ thuật Việt Nam",
    "Hội Chữ thập đỏ Việt Nam",
    "Hội Nhà báo Việt Nam",
    "Hội Luật gia Việt Nam",
    "Liên minh Hợp tác xã Việt Nam"};
constexpr int kBaseAgencyCount = sizeof(kBaseAgencies) / sizeof(char*);

// Real subordinate agencies of a few upper đảng bộ; the others use
// kGenericSubAgencies followed by the agency's name.
struct SubAgencies {
  const char* agency;
  const char* subs[10];
};
constexpr SubAgencies kKnownSubAgencies[] = {
    {"Bộ Tư pháp",
     {"Tổng cục Thi hành án dân sự", "Cục Bổ trợ tư pháp", "Học viện Tư pháp",
      "Trường Đại học Luật Hà Nội", "Báo Pháp luật Việt Nam",
      "Viện Khoa học pháp lý", "Nhà xuất bản Tư pháp",
      "Cục Đăng ký quốc gia giao dịch bảo đảm", "Cục Công nghệ thông tin",
      "Văn phòng Bộ Tư pháp"}},
    {"Bộ Tài chính",
     {"Tổng cục Thuế", "Tổng cục Hải quan", "Kho bạc Nhà nước",
      "Ủy ban Chứng khoán Nhà nước", "Tổng cục Dự trữ Nhà nước",
      "Học viện Tài chính", "Thời báo Tài chính Việt Nam",
      "Cục Tin học và Thống kê tài chính", "Văn phòng Bộ Tài chính",
      "Cục Quản lý công sản"}},
    {"Bộ Kế hoạch và Đầu tư",
     {"Tổng cục Thống kê", "Cục Đầu tư nước ngoài",
      "Viện Chiến lược phát triển",
      "Trung tâm Thông tin và Dự báo kinh tế – "
      "xã hội quốc gia",
      "Cục Phát triển doanh nghiệp", "Văn phòng Bộ Kế hoạch và Đầu tư",
      "Báo Đầu tư", "Học viện Chính sách và Phát triển", "Cục Quản lý đấu thầu",
      "Cục Kinh tế hợp tác"}},
    {"Bộ Giao thông vận tải",
     {"Cục Đường bộ Việt Nam", "Cục Hàng không Việt Nam",
      "Cục Hàng hải Việt Nam", "Cục Đường sắt Việt Nam",
      "Cục Đường thủy nội địa Việt Nam", "Cục Đăng kiểm Việt Nam",
      "Báo Giao thông", "Trường Đại học Giao thông vận tải",
      "Văn phòng Bộ Giao thông vận tải",
      "Viện Chiến lược và Phát triển giao "
      "thông vận tải"}},
    {"Bộ Y tế",
     {"Bệnh viện Bạch Mai", "Bệnh viện Hữu nghị Việt Đức",
      "Bệnh viện Trung ương Quân đội 108", "Bệnh viện Nhi Trung ương",
      "Bệnh viện K", "Viện Vệ sinh dịch tễ Trung ương",
      "Trường Đại học Y Hà Nội", "Cục Quản lý Dược",
      "Báo Sức khỏe và Đời "
      "sống",
      "Văn phòng Bộ Y tế"}},
};

constexpr const char* kGenericSubAgencies[] = {
    "Văn phòng",
    "Cơ quan",
    "Cục Công nghệ thông tin",
    "Trung tâm Thông tin",
    "Viện Chiến lược và Chính sách",
    "Trường Bồi dưỡng cán bộ",
    "Thanh tra",
    "Trung tâm Dịch vụ sự nghiệp công",
    "Cục Kế hoạch – Tài chính",
    "Cục Hợp tác quốc tế"};

// Departments, the usual home of a cell in a central agency:
// "Chi bộ " + prefix + " " + subject.
constexpr const char* kDeptPrefixes[] = {"Vụ", "Phòng", "Ban", "Trung tâm"};
constexpr const char* kDeptSubjects[] = {
    "Tổ chức cán bộ",
    "Pháp chế",
    "Kế hoạch – Tài chính",
    "Hợp tác quốc tế",
    "Thi đua – Khen thưởng",
    "Tổng hợp",
    "Kiểm tra",
    "Chính sách",
    "Đào tạo",
    "Truyền thông",
    "Công nghệ thông tin",
    "Quản trị",
    "Thống kê",
    "Khoa học và Công nghệ",
    "Địa phương",
    "Giám sát",
    "Đối ngoại",
    "Dữ liệu",
    "Hành chính",
    "Nghiệp vụ",
    "Kế toán",
    "Thẩm định",
    "Phổ biến, giáo dục pháp luật",
    "Kiểm soát thủ tục hành chính",
    "Giải quyết khiếu nại, tố cáo",
    "Các vấn đề chung về xây dựng pháp luật",
    "Pháp luật hình sự – hành chính",
    "Pháp luật dân sự – kinh tế",
    "Kinh tế ngành",
    "Ngân sách",
    "Đầu tư",
    "Văn hóa – Xã hội",
    "Dân tộc",
    "Tôn giáo",
    "Thông tin – Tư liệu",
    "Biên tập",
    "Lưu trữ",
    "An ninh mạng",
    "Quản lý chất lượng",
    "Phát triển nguồn nhân lực"};
constexpr int kDeptSubjectCount = sizeof(kDeptSubjects) / sizeof(char*);

constexpr const char* kSubCommitteeNames[] = {"Khối Nghiệp vụ",
                                              "Khối Hành chính",
                                              "Khối Sự nghiệp",
                                              "Khối Chuyên môn",
                                              "Cơ quan Thường trực phía Nam",
                                              "Khối Văn phòng"};

// Provinces and centrally run cities after the 2025 reorganisation.
struct Province {
  const char* name;  // without "tỉnh" / "thành phố"
  bool city;
};
constexpr Province kProvinces[] = {
    {"Hà Nội", true},       {"Hồ Chí Minh", true}, {"Hải Phòng", true},
    {"Đà Nẵng", true},      {"Cần Thơ", true},     {"Huế", true},
    {"Lai Châu", false},    {"Điện Biên", false},  {"Sơn La", false},
    {"Lạng Sơn", false},    {"Quảng Ninh", false}, {"Thanh Hóa", false},
    {"Nghệ An", false},     {"Hà Tĩnh", false},    {"Cao Bằng", false},
    {"Tuyên Quang", false}, {"Lào Cai", false},    {"Thái Nguyên", false},
    {"Phú Thọ", false},     {"Bắc Ninh", false},   {"Hưng Yên", false},
    {"Ninh Bình", false},   {"Quảng Trị", false},  {"Quảng Ngãi", false},
    {"Gia Lai", false},     {"Khánh Hòa", false},  {"Lâm Đồng", false},
    {"Đắk Lắk", false},     {"Đồng Nai", false},   {"Tây Ninh", false},
    {"Vĩnh Long", false},   {"Đồng Tháp", false},  {"Cà Mau", false},
    {"An Giang", false}};
constexpr int kProvinceCount = sizeof(kProvinces) / sizeof(Province);

// The central đảng bộ of the national scale and the agencies under them
// (lists end with nullptr).
struct CentralRoot {
  const char* name;
  const char* organ;
  const char* uppers[32];
  const char* bases[16];
};
constexpr CentralRoot kCentralRoots[] = {
    {"Đảng bộ các cơ quan Đảng Trung ương",
     "Đảng ủy các cơ quan Đảng Trung ương",
     {"Học viện Chính trị quốc gia Hồ Chí Minh", "Tòa án nhân dân tối cao",
      "Viện kiểm sát nhân dân tối cao", nullptr},
     {"Văn phòng Trung ương Đảng", "Ban Tổ chức Trung ương",
      "Ban Tuyên giáo Trung ương", "Ban Dân vận Trung ương",
      "Ban Kinh tế Trung ương", "Ban Nội chính Trung ương",
      "Ban Đối ngoại Trung ương", "Ủy ban Kiểm tra Trung ương",
      "Hội đồng Lý luận Trung ương", "Báo Nhân Dân", "Tạp chí Cộng sản",
      "Nhà xuất bản Chính trị quốc gia Sự thật", nullptr}},
    {"Đảng bộ Chính phủ",
     "Đảng ủy Chính phủ",
     {"Bộ Tư pháp",
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
      "Văn phòng Chính phủ",
      "Bảo hiểm xã hội Việt Nam",
      "Đài Tiếng nói Việt Nam",
      "Đài Truyền hình Việt Nam",
      "Thông tấn xã Việt Nam",
      "Viện Hàn lâm Khoa học xã hội Việt Nam",
      "Viện Hàn lâm Khoa học và Công nghệ Việt Nam",
      "Đại học Quốc gia Hà Nội",
      "Đại học Quốc gia Thành phố Hồ Chí Minh",
      "Ngân hàng Chính sách xã hội",
      "Ngân hàng Phát triển Việt Nam",
      "Ủy ban Dân tộc",
      nullptr},
     {"Ban Quản lý Lăng Chủ tịch Hồ Chí Minh", nullptr}},
    {"Đảng bộ Quốc hội",
     "Đảng ủy Quốc hội",
     {"Kiểm toán Nhà nước", nullptr},
     {"Văn phòng Quốc hội", "Văn phòng Chủ tịch nước", nullptr}},
    {"Đảng bộ Mặt trận Tổ quốc, các đoàn thể Trung ương",
     "Đảng ủy Mặt trận Tổ quốc, các đoàn thể Trung ương",
     {nullptr},
     {"Ủy ban Trung ương Mặt trận Tổ quốc Việt Nam",
      "Tổng Liên đoàn Lao động Việt Nam",
      "Trung ương Đoàn Thanh niên Cộng sản Hồ Chí Minh",
      "Trung ương Hội Liên hiệp Phụ nữ Việt Nam",
      "Trung ương Hội Nông dân Việt Nam",
      "Trung ương Hội Cựu chiến binh Việt Nam",
      "Liên hiệp các Hội Khoa học và Kỹ thuật Việt Nam",
      "Liên hiệp các Hội Văn học nghệ thuật Việt Nam",
      "Hội Chữ thập đỏ Việt Nam", "Hội Nhà báo Việt Nam",
      "Hội Luật gia Việt Nam", "Liên minh Hợp tác xã Việt Nam", nullptr}}};

int CountNames(const char* const* names) {
  int n = 0;
  while (names[n] != nullptr) ++n;
  return n;
}

// Place names: districts, communes and villages.
constexpr const char* kPlaceFirst[] = {
    "Tân",  "Phú",  "An",   "Hòa",  "Bình",  "Long",  "Thạnh", "Mỹ",
    "Đông", "Tây",  "Vĩnh", "Hưng", "Thành", "Phước", "Quang", "Minh",
    "Đức",  "Xuân", "Hồng", "Kim",  "Thanh", "Trung", "Nghĩa", "Cẩm"};
constexpr const char* kPlaceSecond[] = {
    "Phú",   "Bình", "Hòa",   "Lợi", "Thạnh", "An",    "Hưng",  "Long",
    "Thuận", "Lộc",  "Sơn",   "Hải", "Tiến",  "Thịnh", "Phong", "Lâm",
    "Điền",  "Yên",  "Khánh", "Trà", "Giang", "Châu",  "Quý",   "Thủy"};
constexpr int kPlaceFirstCount = sizeof(kPlaceFirst) / sizeof(char*);
constexpr int kPlaceSecondCount = sizeof(kPlaceSecond) / sizeof(char*);

constexpr const char* kVillageNames[] = {
    "Đông",       "Đoài",       "Trung",    "Thượng",    "Hạ",
    "Nam",        "Bắc",        "Tiền",     "Hậu",       "Cầu",
    "Chợ",        "Đình",       "Giữa",     "Ngoài",     "Trong",
    "Bến",        "Mới",        "Cũ",       "Tân Lập",   "Tân Hòa",
    "An Lạc",     "Phú Mỹ",     "Yên Bình", "Đồng Tâm",  "Hòa Bình",
    "Thống Nhất", "Quyết Tiến", "Đoàn Kết", "Hạnh Phúc", "Văn Minh"};
constexpr int kVillageCount = sizeof(kVillageNames) / sizeof(char*);

// Cells of a commune's own offices, schools and forces.
struct Named {
  const char* name;
  v1::UnitSetting setting;
};
constexpr Named kCommuneCells[] = {
    {"Cơ quan Đảng ủy – Ủy ban nhân dân", v1::UNIT_SETTING_STATE_AGENCY},
    {"Quân sự", v1::UNIT_SETTING_ARMED_FORCES},
    {"Công an", v1::UNIT_SETTING_ARMED_FORCES},
    {"Trường Mầm non", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Trường Tiểu học", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Trường Trung học cơ sở", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Trạm Y tế", v1::UNIT_SETTING_PUBLIC_SERVICE}};

// Base cells directly under a district.
constexpr Named kDistrictCells[] = {
    {"Văn phòng Huyện ủy", v1::UNIT_SETTING_STATE_AGENCY},
    {"Văn phòng Hội đồng nhân dân và Ủy ban nhân dân",
     v1::UNIT_SETTING_STATE_AGENCY},
    {"Phòng Giáo dục và Đào tạo", v1::UNIT_SETTING_STATE_AGENCY},
    {"Phòng Tài chính – Kế hoạch", v1::UNIT_SETTING_STATE_AGENCY},
    {"Phòng Nội vụ", v1::UNIT_SETTING_STATE_AGENCY},
    {"Phòng Tư pháp", v1::UNIT_SETTING_STATE_AGENCY},
    {"Phòng Tài nguyên và Môi trường", v1::UNIT_SETTING_STATE_AGENCY},
    {"Phòng Nông nghiệp và Phát triển nông thôn",
     v1::UNIT_SETTING_STATE_AGENCY},
    {"Phòng Văn hóa và Thông tin", v1::UNIT_SETTING_STATE_AGENCY},
    {"Thanh tra huyện", v1::UNIT_SETTING_STATE_AGENCY},
    {"Chi cục Thuế khu vực", v1::UNIT_SETTING_STATE_AGENCY},
    {"Kho bạc Nhà nước", v1::UNIT_SETTING_STATE_AGENCY},
    {"Chi cục Thi hành án dân sự", v1::UNIT_SETTING_STATE_AGENCY},
    {"Tòa án nhân dân", v1::UNIT_SETTING_STATE_AGENCY},
    {"Viện kiểm sát nhân dân", v1::UNIT_SETTING_STATE_AGENCY},
    {"Trung tâm Y tế", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Trung tâm Giáo dục nghề nghiệp – Giáo dục thường xuyên",
     v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Ngân hàng Chính sách xã hội", v1::UNIT_SETTING_ENTERPRISE},
    {"Ngân hàng Nông nghiệp và Phát triển nông thôn",
     v1::UNIT_SETTING_ENTERPRISE},
    {"Bảo hiểm xã hội", v1::UNIT_SETTING_STATE_AGENCY},
    {"Ủy ban Mặt trận Tổ quốc và các đoàn thể", v1::UNIT_SETTING_STATE_AGENCY},
    {"Điện lực", v1::UNIT_SETTING_ENTERPRISE},
    {"Bưu điện", v1::UNIT_SETTING_ENTERPRISE}};
constexpr int kDistrictCellCount = sizeof(kDistrictCells) / sizeof(Named);

// Base đảng bộ of a province's Khối các cơ quan và doanh nghiệp.
constexpr Named kProvinceAgencies[] = {
    {"Sở Tài chính", v1::UNIT_SETTING_STATE_AGENCY},
    {"Sở Tư pháp", v1::UNIT_SETTING_STATE_AGENCY},
    {"Sở Nội vụ", v1::UNIT_SETTING_STATE_AGENCY},
    {"Sở Y tế", v1::UNIT_SETTING_STATE_AGENCY},
    {"Sở Giáo dục và Đào tạo", v1::UNIT_SETTING_STATE_AGENCY},
    {"Sở Xây dựng", v1::UNIT_SETTING_STATE_AGENCY},
    {"Sở Công Thương", v1::UNIT_SETTING_STATE_AGENCY},
    {"Sở Nông nghiệp và Môi trường", v1::UNIT_SETTING_STATE_AGENCY},
    {"Sở Khoa học và Công nghệ", v1::UNIT_SETTING_STATE_AGENCY},
    {"Sở Văn hóa, Thể thao và Du lịch", v1::UNIT_SETTING_STATE_AGENCY},
    {"Thanh tra tỉnh", v1::UNIT_SETTING_STATE_AGENCY},
    {"Văn phòng Ủy ban nhân dân tỉnh", v1::UNIT_SETTING_STATE_AGENCY},
    {"Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh",
     v1::UNIT_SETTING_STATE_AGENCY},
    {"Thuế tỉnh", v1::UNIT_SETTING_STATE_AGENCY},
    {"Kho bạc Nhà nước khu vực", v1::UNIT_SETTING_STATE_AGENCY},
    {"Bảo hiểm xã hội tỉnh", v1::UNIT_SETTING_STATE_AGENCY},
    {"Bệnh viện Đa khoa tỉnh", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Bệnh viện Sản – Nhi", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Trường Chính trị tỉnh", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Trường Đại học", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Trường Cao đẳng Y tế", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Báo và Phát thanh, Truyền hình", v1::UNIT_SETTING_PUBLIC_SERVICE},
    {"Công ty Điện lực", v1::UNIT_SETTING_ENTERPRISE},
    {"Công ty Cổ phần Cấp nước", v1::UNIT_SETTING_ENTERPRISE},
    {"Công ty Xổ số kiến thiết", v1::UNIT_SETTING_ENTERPRISE},
    {"Ngân hàng Nông nghiệp và Phát triển nông thôn chi nhánh tỉnh",
     v1::UNIT_SETTING_ENTERPRISE},
    {"Ngân hàng Chính sách xã hội chi nhánh tỉnh", v1::UNIT_SETTING_ENTERPRISE},
    {"Viễn thông tỉnh", v1::UNIT_SETTING_ENTERPRISE},
    {"Bưu điện tỉnh", v1::UNIT_SETTING_ENTERPRISE},
    {"Ban Quản lý dự án đầu tư xây dựng", v1::UNIT_SETTING_PUBLIC_SERVICE}};
constexpr int kProvinceAgencyCount = sizeof(kProvinceAgencies) / sizeof(Named);

constexpr const char* kForceCells[] = {"Tham mưu",
                                       "Chính trị",
                                       "Hậu cần – Kỹ thuật",
                                       "Cảnh sát",
                                       "An ninh",
                                       "Xây dựng lực lượng",
                                       "Huấn luyện",
                                       "Cơ quan thường trực",
                                       "Đội Tổng hợp",
                                       "Kho vũ khí"};

// People.
constexpr const char* kFamilyNames[] = {
    "Nguyễn", "Trần", "Lê",  "Phạm", "Hoàng", "Huỳnh", "Phan",  "Vũ",
    "Võ",     "Đặng", "Bùi", "Đỗ",   "Hồ",    "Ngô",   "Dương", "Lý"};
// Frequencies are rough: Nguyễn is by far the most common.
constexpr int kFamilyWeights[] = {38, 12, 10, 7, 5, 4, 4, 4,
                                  3,  2,  2,  2, 2, 2, 2, 1};  // sum 100
constexpr const char* kMaleMiddle[] = {"Văn",   "Hữu",   "Đức",  "Minh",
                                       "Quang", "Thanh", "Ngọc", "Xuân",
                                       "Đình",  "Công",  "Mạnh", "Tiến"};
constexpr const char* kFemaleMiddle[] = {"Thị",  "Thị",   "Thị",   "Thu",
                                         "Kim",  "Ngọc",  "Thanh", "Minh",
                                         "Hồng", "Phương"};
constexpr const char* kMaleGiven[] = {
    "An",   "Bình",  "Cường", "Dũng",  "Hải",  "Hùng",  "Long", "Nam",
    "Quân", "Sơn",   "Thắng", "Trung", "Tuấn", "Việt",  "Hiếu", "Khánh",
    "Đạt",  "Hoàng", "Kiên",  "Lâm",   "Phúc", "Thành", "Toàn", "Vinh"};
constexpr const char* kFemaleGiven[] = {
    "Hà",     "Hạnh", "Hoa",   "Hương", "Lan",   "Linh",  "Mai", "Nga",
    "Phương", "Thảo", "Trang", "Yến",   "Nhung", "Giang", "Tâm", "Hằng",
    "Huyền",  "Loan", "Ngân",  "Oanh",  "Quyên", "Thủy",  "Vân", "Xuân"};

// Hồ Chí Minh study content.
constexpr const char* kStories[] = {"Bác Hồ với việc cai thuốc lá",
                                    "Chiếc đồng hồ của Bác",
                                    "Bác Hồ với đức tính cần, kiệm",
                                    "Bác Hồ với việc tiết kiệm thời gian",
                                    "Bác Hồ với tinh thần tự học",
                                    "Bác Hồ và những người nông dân",
                                    "Bác Hồ nêu gương trong lao động",
                                    "Bác Hồ với tinh thần đoàn kết",
                                    "Bác Hồ và bài học về lòng nhân ái",
                                    "Đôi dép cao su của Bác",
                                    "Bữa cơm đạm bạc của Bác",
                                    "Bác Hồ với các cháu thiếu nhi",
                                    "Bác Hồ và chiếc áo bông",
                                    "Bác Hồ với việc chống lãng phí",
                                    "Bác dạy cán bộ phải gần dân",
                                    "Ngôi nhà sàn của Bác",
                                    "Bác Hồ với thương binh, liệt sĩ",
                                    "Bác Hồ và tinh thần phục vụ nhân dân"};
constexpr const char* kQuotes[] = {
    "Cần, kiệm, liêm, chính, chí công vô tư",
    "Vì lợi ích mười năm thì phải trồng cây, vì lợi ích trăm năm thì phải "
    "trồng người",
    "Một tấm gương sống còn có giá trị hơn một trăm bài diễn văn tuyên "
    "truyền",
    "Đảng ta là đạo đức, là văn minh",
    "Dễ trăm lần không dân cũng chịu, khó vạn lần dân liệu cũng xong",
    "Việc gì có lợi cho dân, ta phải hết sức làm. Việc gì có hại đến dân, "
    "ta phải hết sức tránh",
    "Đoàn kết, đoàn kết, đại đoàn kết. Thành công, thành công, đại thành "
    "công"};
constexpr const char* kExamples[] = {
    "Gương đảng viên tiêu biểu trong cải cách hành chính",
    "Điển hình tiết kiệm, chống lãng phí tại đơn vị",
    "Gương người tốt, việc tốt trong phong trào thi đua",
    "Liên hệ trách nhiệm nêu gương của người đứng đầu",
    "Mô hình dân vận khéo ở cơ sở"};
constexpr const char* kThemes[] = {
    "Tư tưởng, đạo đức, phong cách Hồ Chí Minh về văn hóa",
    "Học tập và làm theo Bác về ý chí tự lực, tự cường",
    "Trách nhiệm nêu gương của cán bộ, đảng viên",
    "Tư tưởng Hồ Chí Minh về phòng, chống tham nhũng, tiêu cực",
    "Phong cách làm việc khoa học, sát cơ sở của Bác",
    "Tư tưởng Hồ Chí Minh về xây dựng Đảng trong sạch, vững mạnh",
    "Tư tưởng Hồ Chí Minh về đại đoàn kết toàn dân tộc",
    "Học tập phong cách quần chúng, dân chủ, nêu gương của Bác",
    "Tư tưởng Hồ Chí Minh về cần, kiệm, liêm, chính, chí công vô tư",
    "Khát vọng đất nước phồn vinh, hạnh phúc theo tư tưởng Hồ Chí Minh"};
constexpr const char* kAnnualThemes[] = {
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về xây "
    "dựng văn hóa, con người Việt Nam",
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về ý chí "
    "tự lực, tự cường và khát vọng phát triển đất nước",
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về xây "
    "dựng Đảng thật sự trong sạch, vững mạnh",
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về phong "
    "cách công tác của người đứng đầu"};

struct Item {
  const char* text;
  v1::VirtueCategory category;
  const char* measure;  // may be empty
};
constexpr Item kCommitmentItems[] = {
    {"Hoàn thành đúng hạn mọi nhiệm vụ được giao",
     v1::VIRTUE_CATEGORY_CHUYEN_MON, "Không có việc trễ hạn trong năm"},
    {"Tiết kiệm văn phòng phẩm và điện năng tại cơ quan",
     v1::VIRTUE_CATEGORY_KIEM, ""},
    {"Không sử dụng điện thoại cho việc riêng trong giờ họp",
     v1::VIRTUE_CATEGORY_CAN, ""},
    {"Đọc ít nhất một cuốn sách về Bác mỗi quý", v1::VIRTUE_CATEGORY_OTHER,
     "Bốn cuốn sách trong năm"},
    {"Giải quyết hồ sơ của người dân đúng hoặc trước hạn",
     v1::VIRTUE_CATEGORY_CHUYEN_MON, "Không có hồ sơ quá hạn"},
    {"Tham gia đầy đủ sinh hoạt chi bộ và đoàn thể", v1::VIRTUE_CATEGORY_CAN,
     ""},
    {"Giúp đỡ một đảng viên trẻ trong công tác chuyên môn",
     v1::VIRTUE_CATEGORY_NEU_GUONG, ""},
    {"Không nhận quà biếu liên quan đến công việc", v1::VIRTUE_CATEGORY_LIEM,
     ""},
    {"Đi làm đúng giờ, không về sớm", v1::VIRTUE_CATEGORY_CAN, ""},
    {"Nêu gương trong gia đình và nơi cư trú", v1::VIRTUE_CATEGORY_NEU_GUONG,
     ""},
    {"Công tâm, khách quan khi nhận xét, đánh giá cán bộ",
     v1::VIRTUE_CATEGORY_CHI_CONG_VO_TU, ""},
    {"Thẳng thắn tự phê bình và phê bình trong sinh hoạt chi bộ",
     v1::VIRTUE_CATEGORY_CHINH, ""},
    {"Sử dụng tài sản công đúng mục đích, không lãng phí",
     v1::VIRTUE_CATEGORY_KIEM, ""},
    {"Kê khai tài sản, thu nhập trung thực, đúng hạn", v1::VIRTUE_CATEGORY_LIEM,
     ""},
    {"Tham gia ít nhất một hoạt động thiện nguyện mỗi quý",
     v1::VIRTUE_CATEGORY_OTHER, "Bốn hoạt động trong năm"},
    {"Ứng dụng chuyển đổi số để giải quyết công việc nhanh hơn",
     v1::VIRTUE_CATEGORY_CHUYEN_MON, ""},
    {"Lắng nghe, tôn trọng ý kiến của đồng nghiệp và nhân dân",
     v1::VIRTUE_CATEGORY_CHINH, ""},
    {"Đặt lợi ích chung lên trên lợi ích cá nhân",
     v1::VIRTUE_CATEGORY_CHI_CONG_VO_TU, ""}};
constexpr int kCommitmentItemCount = sizeof(kCommitmentItems) / sizeof(Item);
constexpr Item kCollectiveItems[] = {
    {"100% đảng viên của chi bộ đăng ký làm theo Bác",
     v1::VIRTUE_CATEGORY_NEU_GUONG, ""},
    {"Duy trì sinh hoạt chi bộ thường kỳ đủ 12 kỳ trong năm",
     v1::VIRTUE_CATEGORY_CAN, ""},
    {"Tổ chức sinh hoạt chuyên đề mỗi quý một lần", v1::VIRTUE_CATEGORY_CAN,
     ""},
    {"Thực hành tiết kiệm, giảm 10% chi phí hành chính",
     v1::VIRTUE_CATEGORY_KIEM, "Chi phí hành chính giảm 10% so với năm trước"},
    {"Không có đảng viên vi phạm kỷ luật", v1::VIRTUE_CATEGORY_LIEM, ""}};
constexpr int kCollectiveItemCount = sizeof(kCollectiveItems) / sizeof(Item);

constexpr const char* kPlanContents[] = {
    "Tổ chức học tập, quán triệt chuyên đề năm",
    "Đăng ký làm theo của tập thể và cá nhân",
    "Sinh hoạt chuyên đề hằng quý ở các chi bộ",
    "Kể chuyện về Bác tại các buổi sinh hoạt chi bộ",
    "Biểu dương, khen thưởng điển hình tiên tiến",
    "Đưa nội dung làm theo Bác vào kiểm điểm, đánh giá cuối năm",
    "Tuyên truyền trên cổng thông tin điện tử và mạng xã hội"};
constexpr const char* kLocations[] = {"Phòng họp tầng 2", "Phòng họp tầng 3",
                                      "Hội trường cơ quan", "Phòng họp chi bộ",
                                      "Phòng họp trực tuyến"};

// ---------------------------------------------------------------------------
// Calendar.

void SetDate(absl::CivilDay d, v1::Date* out) {
  out->set_year(static_cast<int32_t>(d.year()));
  out->set_month(d.month());
  out->set_day(d.day());
}

// Weekends and the fixed-date public holidays (1/1, 30/4, 1/5, 2/9).
bool IsDayOff(absl::CivilDay d) {
  const absl::Weekday w = absl::GetWeekday(d);
  if (w == absl::Weekday::saturday || w == absl::Weekday::sunday) return true;
  const int md = d.month() * 100 + d.day();
  return md == 101 || md == 430 || md == 501 || md == 902;
}

// A working day near `d` within [lo, hi]: `d` itself, else the next one,
// else the one before. Falls back to `d` clamped if the range has none.
absl::CivilDay Workday(absl::CivilDay d, absl::CivilDay lo, absl::CivilDay hi) {
  d = std::clamp(d, lo, hi);
  for (absl::CivilDay x = d; x <= hi; ++x) {
    if (!IsDayOff(x)) return x;
  }
  for (absl::CivilDay x = d; x >= lo; --x) {
    if (!IsDayOff(x)) return x;
  }
  return d;
}

void AppendPadded(std::string* out, int value, int width) {
  char buf[16];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < 15);
  while (n < width) buf[n++] = '0';
  while (n > 0) out->push_back(buf[--n]);
}

std::string Padded(absl::string_view prefix, int value, int width) {
  std::string s(prefix.data(), prefix.size());
  AppendPadded(&s, value, width);
  return s;
}

// "Đảng bộ X" -> "X"; "Chi bộ X" -> "X".
absl::string_view Bare(absl::string_view name) {
  for (absl::string_view prefix :
       {absl::string_view("Đảng bộ "), absl::string_view("Chi bộ ")}) {
    if (name.substr(0, prefix.size()) == prefix) {
      return name.substr(prefix.size());
    }
  }
  return name;
}

bool IsCellKind(v1::UnitKind k) {
  return k == v1::UNIT_KIND_BASE_CELL || k == v1::UNIT_KIND_ATTACHED_CELL;
}

// ---------------------------------------------------------------------------
// The generator.

enum class Scale { kTiny, kBloc, kNational };

struct Unit {
  std::string id;
  std::string name;
  // Who signs its documents, e.g. "Đảng ủy Bộ Tư pháp", "Huyện ủy Phú Bình";
  // empty for units that issue none (attached cells, sub committees).
  std::string organ;
  // The issuer as written on its documents: `organ`, qualified by its
  // ancestors' names where `organ` alone is not unique.
  std::string issuer;
  const char* doc_tag = "";  // "ĐUK" in "05-KH/ĐUK"
  v1::UnitKind kind = v1::UNIT_KIND_UNSPECIFIED;
  v1::UnitSetting setting = v1::UNIT_SETTING_UNSPECIFIED;
  int32_t parent = -1;
  int32_t depth = 0;
  // Filled by Finalize():
  int32_t root = -1;
  int32_t subtree_end = 0;  // units [this, subtree_end) are its subtree
  int32_t cell_begin = 0;   // its subtree's cells are [cell_begin, cell_end)
  int32_t cell_end = 0;
  int32_t base_org = -1;  // the nearest base organisation at or above it
  int16_t plan_number = 0;
  int16_t plan_day = -1;  // day of the year it issued its plan; -1: none
};

enum ChangeKind : uint8_t { kTransfer, kLeave, kAdmit, kArrive };

class Generator {
 public:
  Generator(Scale scale, const GenOptions& options, const EventSink& emit,
            GenStats* stats)
      : scale_(scale),
        seed_(options.seed),
        year_(options.year),
        rng_(options.seed),
        emit_(emit),
        stats_(stats),
        jan1_(options.year, 1, 1),
        days_(static_cast<int>(absl::CivilDay(options.year + 1, 1, 1) -
                               absl::CivilDay(options.year, 1, 1))),
        arena_block_(new char[kArenaBlock]),
        arena_(ArenaOptions(arena_block_.get())) {}

  absl::Status Run() {
    switch (scale_) {
      case Scale::kTiny:
        BuildTiny();
        break;
      case Scale::kBloc:
        BuildBloc();
        break;
      case Scale::kNational:
        BuildNational();
        break;
    }
    Finalize();
    EmitUnits();
    EmitInitialMembers();
    changes_.resize(days_);
    plans_.resize(days_);
    sessions_.resize(days_);
    regs_.resize(days_);
    evals_.resize(days_);
    awards_.resize(days_);
    for (int day = 0; day < days_ && !stopped_; ++day) Day(day);
    FillStats();
    if (stopped_) return absl::CancelledError("stopped by the caller");
    return absl::OkStatus();
  }

 private:
  // --- structure -----------------------------------------------------------

  int32_t AddUnit(std::string id, std::string name, v1::UnitKind kind,
                  v1::UnitSetting setting, int32_t parent,
                  std::string organ = "", const char* doc_tag = "") {
    Unit u;
    u.id = std::move(id);
    u.name = std::move(name);
    u.organ = std::move(organ);
    u.doc_tag = doc_tag;
    u.kind = kind;
    u.setting = setting;
    u.parent = parent;
    u.depth = parent < 0 ? 0 : units_[parent].depth + 1;
    units_.push_back(std::move(u));
    const int32_t index = static_cast<int32_t>(units_.size() - 1);
    if (IsCellKind(kind)) cell_unit_.push_back(index);
    return index;
  }

  // A cell, with the organ that signs its documents if it is a base cell.
  int32_t AddCell(std::string id, std::string name, v1::UnitKind kind,
                  v1::UnitSetting setting, int32_t parent) {
    std::string organ;
    if (kind == v1::UNIT_KIND_BASE_CELL) organ = name;
    return AddUnit(std::move(id), std::move(name), kind, setting, parent,
                   std::move(organ),
                   kind == v1::UNIT_KIND_BASE_CELL ? "CB" : "");
  }

  // `count` department cells under `parent`: "Chi bộ Văn phòng", then
  // "Chi bộ Vụ Pháp chế", "Chi bộ Phòng Tổng hợp" ...
  void AddDepartmentCells(int32_t parent, absl::string_view prefix, int count,
                          v1::UnitKind kind, v1::UnitSetting setting) {
    const int offset = rng_.Below(kDeptSubjectCount);
    for (int i = 0; i < count; ++i) {
      std::string name;
      if (i == 0) {
        name = "Chi bộ Văn phòng";
      } else {
        const int k = i - 1;
        name =
            absl::StrCat("Chi bộ ", kDeptPrefixes[(k / kDeptSubjectCount) % 4],
                         " ", kDeptSubjects[(offset + k) % kDeptSubjectCount]);
        if (k >= 4 * kDeptSubjectCount) {
          absl::StrAppend(&name, " ", k / (4 * kDeptSubjectCount) + 1);
        }
      }
      AddCell(Padded(absl::StrCat(units_[parent].id, prefix), i + 1, 3),
              std::move(name), kind, setting, parent);
    }
  }

  struct AgencySizes {
    int bases_lo, bases_hi;  // base đảng bộ under an upper đảng bộ
    int attached_lo, attached_hi;      // cells of such a base đảng bộ
    int base_cells_lo, base_cells_hi;  // base cells under an upper đảng bộ
    int direct_lo, direct_hi;  // cells of a base đảng bộ under the root
    double sub_chance;         // a base đảng bộ has a sub committee
    int sub_lo, sub_hi;        // cells of a sub committee
  };

  // A base đảng bộ (BASE_PARTY_COMMITTEE) with attached cells and maybe a
  // sub committee (depth + 1) with cells of its own.
  void AddAgencyBase(int32_t parent, std::string id, std::string name,
                     int cells, const AgencySizes& s, v1::UnitSetting setting) {
    std::string organ = absl::StrCat("Đảng ủy ", Bare(name));
    const int32_t base = AddUnit(std::move(id), std::move(name),
                                 v1::UNIT_KIND_BASE_PARTY_COMMITTEE, setting,
                                 parent, std::move(organ), "ĐU");
    AddDepartmentCells(base, ".cb", cells, v1::UNIT_KIND_ATTACHED_CELL,
                       setting);
    if (rng_.Chance(s.sub_chance)) {
      const int32_t sub = AddUnit(
          absl::StrCat(units_[base].id, ".bp1"),
          absl::StrCat("Đảng bộ bộ phận ", rng_.Pick(kSubCommitteeNames)),
          v1::UNIT_KIND_SUB_PARTY_COMMITTEE, setting, base);
      AddDepartmentCells(sub, ".cb", rng_.Between(s.sub_lo, s.sub_hi),
                         v1::UNIT_KIND_ATTACHED_CELL, setting);
    }
  }

  // An upper đảng bộ of a central agency: base đảng bộ named after its
  // subordinate agencies, then base cells for its own departments.
  void AddAgencyUpper(int32_t root, std::string id, const char* agency,
                      const AgencySizes& s) {
    const int32_t upper =
        AddUnit(id, absl::StrCat("Đảng bộ ", agency), v1::UNIT_KIND_UPPER_BASE,
                v1::UNIT_SETTING_STATE_AGENCY, root,
                absl::StrCat("Đảng ủy ", agency), "ĐU");
    const SubAgencies* known = nullptr;
    for (const SubAgencies& k : kKnownSubAgencies) {
      if (std::strcmp(k.agency, agency) == 0) known = &k;
    }
    const int bases = rng_.Between(s.bases_lo, s.bases_hi);
    for (int b = 0; b < bases; ++b) {
      std::string name =
          known != nullptr && b < 10
              ? absl::StrCat("Đảng bộ ", known->subs[b])
              : absl::StrCat("Đảng bộ ", kGenericSubAgencies[b % 10], " ",
                             agency);
      const v1::UnitSetting setting =
          absl::StrContains(name, "Trường") ||
                  absl::StrContains(name, "Bệnh viện") ||
                  absl::StrContains(name, "Học viện") ||
                  absl::StrContains(name, "Viện ") ||
                  absl::StrContains(name, "Báo") ||
                  absl::StrContains(name, "Nhà xuất bản")
              ? v1::UNIT_SETTING_PUBLIC_SERVICE
              : v1::UNIT_SETTING_STATE_AGENCY;
      AddAgencyBase(upper, Padded(absl::StrCat(id, ".cs"), b + 1, 2),
                    std::move(name), rng_.Between(s.attached_lo, s.attached_hi),
                    s, setting);
    }
    AddDepartmentCells(upper, ".cb",
                       rng_.Between(s.base_cells_lo, s.base_cells_hi),
                       v1::UNIT_KIND_BASE_CELL, v1::UNIT_SETTING_STATE_AGENCY);
  }

  // A root of central agencies: `uppers` upper đảng bộ and `bases` base
  // đảng bộ, ids "<root>.dbNN".
  void AddAgencyRoot(const std::string& id, const std::string& name,
                     const std::string& organ, const char* doc_tag,
                     const char* const* uppers, int upper_count,
                     const char* const* bases, int base_count,
                     const AgencySizes& s) {
    const int32_t root =
        AddUnit(id, name, v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                v1::UNIT_SETTING_STATE_AGENCY, -1, organ, doc_tag);
    // Interleave the two kinds, as a real list of đảng bộ would.
    int u = 0, b = 0, n = 0;
    while (u < upper_count || b < base_count) {
      const bool take_upper =
          b >= base_count ||
          (u < upper_count &&
           rng_.Below(upper_count + base_count - u - b) < upper_count - u);
      const std::string child = Padded(absl::StrCat(id, ".db"), ++n, 2);
      if (take_upper) {
        AddAgencyUpper(root, child, uppers[u++], s);
      } else {
        const char* agency = bases[b++];
        AddAgencyBase(root, child, absl::StrCat("Đảng bộ ", agency),
                      rng_.Between(s.direct_lo, s.direct_hi), s,
                      v1::UNIT_SETTING_STATE_AGENCY);
      }
    }
  }

  void BuildTiny() {
    const AgencySizes s = {1, 1, 2, 2, 1, 1, 1, 1, 1.0, 1, 1};
    const char* uppers[] = {kUpperAgencies[0]};
    const char* bases[] = {kBaseAgencies[0]};
    AddAgencyRoot("dbk", "Đảng bộ Khối các cơ quan Trung ương",
                  "Đảng ủy Khối các cơ quan Trung ương", "ĐUK", uppers, 1,
                  bases, 1, s);
    // ~10 members a cell: ~60 members.
    members_lo_ = 7;
    members_spread_ = 4;
    members_tail_chance_ = 0;
  }

  void BuildBloc() {
    // Calibrated for ~5,200 cells: 34 uppers of ~115 cells, 27 bases of ~45.
    const AgencySizes s = {3, 8, 8, 28, 3, 15, 15, 75, 0.3, 3, 6};
    AddAgencyRoot("dbk", "Đảng bộ Khối các cơ quan Trung ương",
                  "Đảng ủy Khối các cơ quan Trung ương", "ĐUK", kUpperAgencies,
                  kUpperAgencyCount, kBaseAgencies, kBaseAgencyCount, s);
    // ~13.5 members a cell.
    members_lo_ = 4;
    members_spread_ = 9;
    members_tail_chance_ = 0.08;
  }

  std::string PlaceName(int index) {
    return absl::StrCat(kPlaceFirst[index % kPlaceFirstCount], " ",
                        kPlaceSecond[(index / kPlaceFirstCount + index * 7) %
                                     kPlaceSecondCount]);
  }

  void AddCommune(int32_t district, const std::string& id, bool urban,
                  const std::string& place) {
    const char* level =
        urban ? "phường" : (rng_.Chance(0.08) ? "thị trấn" : "xã");
    const int32_t commune = AddUnit(
        id, absl::StrCat("Đảng bộ ", level, " ", place),
        v1::UNIT_KIND_BASE_PARTY_COMMITTEE, v1::UNIT_SETTING_COMMUNE_WARD,
        district, absl::StrCat("Đảng ủy ", level, " ", place), "ĐU");
    const int cells = rng_.Between(10, 26);
    const int offset = rng_.Below(kVillageCount);
    int village = 0;
    for (int c = 0; c < cells; ++c) {
      std::string name;
      v1::UnitSetting setting = v1::UNIT_SETTING_COMMUNE_WARD;
      if (c < 7 && rng_.Chance(0.6)) {
        name = absl::StrCat("Chi bộ ", kCommuneCells[c].name);
        setting = kCommuneCells[c].setting;
      } else if (urban) {
        name = absl::StrCat(
            village % 2 == 0 ? "Chi bộ khu phố " : "Chi bộ tổ dân phố ",
            village + 1);
        ++village;
      } else if (village < kVillageCount) {
        name = absl::StrCat("Chi bộ thôn ",
                            kVillageNames[(offset + village) % kVillageCount]);
        ++village;
      } else {
        name = absl::StrCat("Chi bộ thôn ", ++village);
      }
      AddCell(Padded(absl::StrCat(units_[commune].id, ".c"), c + 1, 2),
              std::move(name), v1::UNIT_KIND_ATTACHED_CELL, setting, commune);
    }
  }

  void AddProvince(int p) {
    const Province& prov = kProvinces[p];
    const std::string id = Padded("t", p + 1, 2);
    const char* kind = prov.city ? "thành phố" : "tỉnh";
    const int32_t root = AddUnit(
        id, absl::StrCat("Đảng bộ ", kind, " ", prov.name),
        v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, v1::UNIT_SETTING_UNSPECIFIED, -1,
        absl::StrCat(prov.city ? "Thành ủy " : "Tỉnh ủy ", prov.name), "TU");
    // Districts, with commune đảng bộ and their village cells.
    const int districts = rng_.Between(12, 16);
    const int district_offset =
        rng_.Below(kPlaceFirstCount * kPlaceSecondCount);
    for (int d = 0; d < districts; ++d) {
      const std::string place = PlaceName(district_offset + d * 37);
      const bool urban = prov.city && d % 2 == 0;
      const char* level = urban ? "quận" : (d % 7 == 3 ? "thị xã" : "huyện");
      const char* organ =
          urban ? "Quận ủy " : (d % 7 == 3 ? "Thị ủy " : "Huyện ủy ");
      const int32_t district =
          AddUnit(Padded(absl::StrCat(id, ".h"), d + 1, 2),
                  absl::StrCat("Đảng bộ ", level, " ", place),
                  v1::UNIT_KIND_UPPER_BASE, v1::UNIT_SETTING_COMMUNE_WARD, root,
                  absl::StrCat(organ, place), urban ? "QU" : "HU");
      const int communes = rng_.Between(19, 33);
      const int commune_offset =
          rng_.Below(kPlaceFirstCount * kPlaceSecondCount);
      for (int c = 0; c < communes; ++c) {
        AddCommune(district,
                   Padded(absl::StrCat(units_[district].id, ".x"), c + 1, 2),
                   urban, PlaceName(commune_offset + c * 13));
      }
      const int cells = rng_.Between(15, 40);
      const int cell_offset = rng_.Below(kDistrictCellCount);
      for (int c = 0; c < cells; ++c) {
        const Named& n = kDistrictCells[(cell_offset + c) % kDistrictCellCount];
        std::string name = absl::StrCat("Chi bộ ", n.name);
        if (c >= kDistrictCellCount) {
          absl::StrAppend(&name, " ", c / kDistrictCellCount + 1);
        }
        AddCell(Padded(absl::StrCat(units_[district].id, ".cb"), c + 1, 2),
                std::move(name), v1::UNIT_KIND_BASE_CELL, n.setting, district);
      }
    }
    // The province's agencies and enterprises.
    const int32_t bloc = AddUnit(
        absl::StrCat(id, ".k"), "Đảng bộ Khối các cơ quan và doanh nghiệp tỉnh",
        v1::UNIT_KIND_UPPER_BASE, v1::UNIT_SETTING_STATE_AGENCY, root,
        "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh", "ĐUK");
    const int agencies = rng_.Between(20, kProvinceAgencyCount);
    const AgencySizes s = {0, 0, 0, 0, 0, 0, 3, 12, 0.15, 3, 5};
    for (int a = 0; a < agencies; ++a) {
      AddAgencyBase(bloc, Padded(absl::StrCat(id, ".k.b"), a + 1, 2),
                    absl::StrCat("Đảng bộ ", kProvinceAgencies[a].name),
                    rng_.Between(s.direct_lo, s.direct_hi), s,
                    kProvinceAgencies[a].setting);
    }
    // The armed forces: one base đảng bộ per district.
    for (int f = 0; f < 2; ++f) {
      const char* force = f == 0 ? "Quân sự" : "Công an";
      const int32_t upper =
          AddUnit(absl::StrCat(id, f == 0 ? ".qs" : ".ca"),
                  absl::StrCat("Đảng bộ ", force, " tỉnh"),
                  v1::UNIT_KIND_UPPER_BASE, v1::UNIT_SETTING_ARMED_FORCES, root,
                  absl::StrCat("Đảng ủy ", force, " tỉnh"), "ĐU");
      for (int d = 0; d < districts; ++d) {
        const std::string place = PlaceName(district_offset + d * 37);
        std::string name =
            f == 0 ? absl::StrCat("Đảng bộ Ban Chỉ huy Quân sự ", place)
                   : absl::StrCat("Đảng bộ Công an ", place);
        const int32_t base = AddUnit(
            Padded(absl::StrCat(units_[upper].id, ".b"), d + 1, 2), name,
            v1::UNIT_KIND_BASE_PARTY_COMMITTEE, v1::UNIT_SETTING_ARMED_FORCES,
            upper, absl::StrCat("Đảng ủy ", Bare(name)), "ĐU");
        const int cells = rng_.Between(3, 8);
        for (int c = 0; c < cells; ++c) {
          AddCell(Padded(absl::StrCat(units_[base].id, ".c"), c + 1, 2),
                  absl::StrCat("Chi bộ ", kForceCells[c]),
                  v1::UNIT_KIND_ATTACHED_CELL, v1::UNIT_SETTING_ARMED_FORCES,
                  base);
        }
      }
    }
  }

  void BuildNational() {
    for (int p = 0; p < kProvinceCount; ++p) AddProvince(p);
    const AgencySizes s = {3, 8, 8, 28, 3, 15, 15, 75, 0.3, 3, 6};
    for (int r = 0; r < 4; ++r) {
      const CentralRoot& c = kCentralRoots[r];
      AddAgencyRoot(absl::StrCat("tw", r + 1), c.name, c.organ, "ĐU", c.uppers,
                    CountNames(c.uppers), c.bases, CountNames(c.bases), s);
    }
    // ~22 members a cell.
    members_lo_ = 4;
    members_spread_ = 16;
    members_tail_chance_ = 0.15;
  }

  // Derived structure: subtrees, cell ranges, base organisations, and
  // document issuers that are unique.
  void Finalize() {
    const int32_t n = static_cast<int32_t>(units_.size());
    // Preorder: a subtree ends at the next unit no deeper than its root.
    std::vector<int32_t> stack;
    for (int32_t u = 0; u <= n; ++u) {
      const int depth = u < n ? units_[u].depth : -1;
      while (!stack.empty() && units_[stack.back()].depth >= depth) {
        units_[stack.back()].subtree_end = u;
        stack.pop_back();
      }
      if (u < n) stack.push_back(u);
    }
    std::vector<int32_t> cells_before(n + 1, 0);
    for (int32_t u = 0; u < n; ++u) {
      cells_before[u + 1] = cells_before[u] + (IsCellKind(units_[u].kind));
    }
    for (int32_t u = 0; u < n; ++u) {
      Unit& unit = units_[u];
      unit.cell_begin = cells_before[u];
      unit.cell_end = cells_before[unit.subtree_end];
      unit.root = unit.parent < 0 ? u : units_[unit.parent].root;
      const bool base_org = unit.kind == v1::UNIT_KIND_BASE_PARTY_COMMITTEE ||
                            unit.kind == v1::UNIT_KIND_BASE_CELL;
      unit.base_org = base_org           ? u
                      : unit.parent >= 0 ? units_[unit.parent].base_org
                                         : -1;
    }
    // Issuers: the organ, then ", <parent's name>" up the tree until the
    // string is unique.
    absl::flat_hash_map<std::string, int> count;
    for (const Unit& u : units_) {
      if (!u.organ.empty()) ++count[u.organ];
    }
    for (int round = 0; round < 4 && !count.empty(); ++round) {
      absl::flat_hash_map<std::string, int> next;
      for (Unit& u : units_) {
        if (u.organ.empty()) continue;
        if (u.issuer.empty()) u.issuer = u.organ;
        if (count[u.issuer] > 1) {
          int32_t a = u.parent;
          for (int up = 0; up < round && a >= 0; ++up) a = units_[a].parent;
          if (a >= 0) absl::StrAppend(&u.issuer, ", ", units_[a].name);
        }
        ++next[u.issuer];
      }
      count = std::move(next);
    }
    const int32_t cells = static_cast<int32_t>(cell_unit_.size());
    cell_count_.assign(cells, 0);
    cell_review_day_.assign(cells, -1);
    cell_collective_.assign(cells, 0);
  }

  // --- emitting ------------------------------------------------------------

  void Emit() {
    if (stopped_) return;
    ++type_counts_[ev_->payload_case()];
    ++events_;
    if (!emit_(*ev_)) stopped_ = true;
  }

  // A new, empty event dated `day`, valid until the next call. Events live
  // on an arena that is reset each time: no allocation per event.
  v1::Event* NewEvent(absl::CivilDay day) {
    arena_.Reset();
    ev_ = google::protobuf::Arena::CreateMessage<v1::Event>(&arena_);
    SetDate(day, ev_->mutable_business_date());
    return ev_;
  }

  static google::protobuf::ArenaOptions ArenaOptions(char* block) {
    google::protobuf::ArenaOptions options;
    options.initial_block = block;
    options.initial_block_size = kArenaBlock;
    return options;
  }

  absl::CivilDay DayOf(int day) const { return jan1_ + day; }

  static std::string MemberId(int32_t m) { return Padded("dv", m + 1, 8); }

  std::string PersonName() {
    int roll = rng_.Below(100);
    int f = 0;
    while (roll >= kFamilyWeights[f]) roll -= kFamilyWeights[f++];
    const bool female = rng_.Chance(0.42);
    std::string name = absl::StrCat(
        kFamilyNames[f], " ",
        female ? rng_.Pick(kFemaleMiddle) : rng_.Pick(kMaleMiddle), " ");
    if (rng_.Chance(0.12)) {
      absl::StrAppend(
          &name, female ? rng_.Pick(kFemaleGiven) : rng_.Pick(kMaleGiven), " ");
    }
    absl::StrAppend(&name,
                    female ? rng_.Pick(kFemaleGiven) : rng_.Pick(kMaleGiven));
    return name;
  }

  void EmitUnits() {
    const absl::CivilDay created(year_ - 5, 1, 2);
    for (const Unit& u : units_) {
      v1::Event* e = NewEvent(created);
      e->set_origin(v1::ORIGIN_IMPORT);
      v1::UnitCreated* c = e->mutable_unit_created();
      c->set_unit_id(u.id);
      c->set_kind(u.kind);
      c->set_name(u.name);
      if (u.parent >= 0) c->set_parent_id(units_[u.parent].id);
      c->set_setting(u.setting);
      c->set_is_base_org(u.kind == v1::UNIT_KIND_BASE_PARTY_COMMITTEE ||
                         u.kind == v1::UNIT_KIND_BASE_CELL);
      Emit();
      if (stopped_) return;
    }
  }

  int MembersForCell() {
    int n =
        members_lo_ + rng_.Below(members_spread_) + rng_.Below(members_spread_);
    if (members_tail_chance_ > 0 && rng_.Chance(members_tail_chance_)) {
      n += rng_.Below(40);
    }
    return std::max(n, 3);
  }

  void EmitMember(int32_t cell, absl::CivilDay day, v1::JoinKind how,
                  v1::MemberStatus status) {
    const int32_t m = static_cast<int32_t>(member_cell_.size());
    member_cell_.push_back(cell);
    member_flags_.push_back(0);
    ++cell_count_[cell];
    ++active_members_;
    v1::Event* e = NewEvent(day);
    if (how == v1::JOIN_KIND_INITIAL_LOAD) e->set_origin(v1::ORIGIN_IMPORT);
    v1::MemberJoined* j = e->mutable_member_joined();
    j->set_member_id(MemberId(m));
    j->set_cell_id(units_[cell_unit_[cell]].id);
    j->set_display_name(PersonName());
    j->set_status(status);
    j->set_how(how);
    Emit();
  }

  // Everyone already a member when recording began, cell by cell.
  void EmitInitialMembers() {
    const absl::CivilDay loaded(year_ - 1, 12, 31);
    const int32_t cells = static_cast<int32_t>(cell_unit_.size());
    cell_first_member_.assign(cells + 1, 0);
    for (int32_t c = 0; c < cells && !stopped_; ++c) {
      cell_first_member_[c] = static_cast<int32_t>(member_cell_.size());
      const int n = MembersForCell();
      for (int k = 0; k < n; ++k) {
        EmitMember(c, loaded, v1::JOIN_KIND_INITIAL_LOAD,
                   rng_.Chance(0.06) ? v1::MEMBER_STATUS_PROBATIONARY
                                     : v1::MEMBER_STATUS_OFFICIAL);
      }
    }
    cell_first_member_[cells] = static_cast<int32_t>(member_cell_.size());
  }

  // --- scheduling ----------------------------------------------------------

  int DayIndex(absl::CivilDay d) const { return static_cast<int>(d - jan1_); }

  // A working day in [first, last] (days of the year), uniformly: draws
  // again on a day off, and after a few tries takes the nearest working day.
  int RandomWorkday(int first, int last) {
    last = std::max(first, last);
    const absl::CivilDay lo = DayOf(first), hi = DayOf(last);
    absl::CivilDay d = lo + rng_.Below(last - first + 1);
    for (int attempt = 0; attempt < 8 && IsDayOff(d); ++attempt) {
      d = lo + rng_.Below(last - first + 1);
    }
    return DayIndex(Workday(d, lo, hi));
  }

  // On the first of a month: when this month's sessions, membership changes
  // and (in January) registrations and plans happen.
  void StartMonth(int month) {
    const int first = DayIndex(absl::CivilDay(year_, month, 1));
    const int last = DayIndex(absl::CivilDay(year_, month + 1, 1) - 1);
    const int32_t cells = static_cast<int32_t>(cell_unit_.size());
    // Regular sessions: early in the month, ~5% of cell-months missing.
    for (int32_t c = 0; c < cells; ++c) {
      if (rng_.Chance(0.05)) continue;
      sessions_[RandomWorkday(first + 1, std::min(first + 17, last))].push_back(
          c * 2);
    }
    // Thematic sessions: once in the quarter, ~8% missing.
    if (month % 3 == 1) {
      const int q_last = DayIndex(absl::CivilDay(year_, month + 3, 1) - 1);
      for (int32_t c = 0; c < cells; ++c) {
        if (rng_.Chance(0.08)) continue;
        sessions_[RandomWorkday(first + 3, q_last - 3)].push_back(c * 2 + 1);
      }
    }
    // Membership changes, spread over the month's working days.
    const double members = static_cast<double>(active_members_);
    auto schedule = [&](ChangeKind kind, double expected, int at_least) {
      int n = static_cast<int>(expected);
      if (rng_.Chance(expected - n)) ++n;
      n = std::max(n, at_least);
      for (int i = 0; i < n; ++i) {
        changes_[RandomWorkday(first, last)].push_back(kind);
      }
    };
    const bool tiny = scale_ == Scale::kTiny;
    schedule(kTransfer, members * 0.003,
             tiny && (month == 3 || month == 6 || month == 9) ? 1 : 0);
    schedule(kLeave, members * 0.0005, tiny && month == 4 ? 1 : 0);
    schedule(kAdmit, members * 0.002, tiny && month == 7 ? 1 : 0);
    schedule(kArrive, members * 0.0004, tiny && month == 8 ? 1 : 0);
    if (month == 1) StartYear(first);
    if (month == 5) {
      // 19/5, Bác's birthday: the roots' Bằng khen (the working day before
      // if it is a day off).
      absl::CivilDay d(year_, 5, 19);
      while (IsDayOff(d)) --d;
      for (int32_t u = 0; u < static_cast<int32_t>(units_.size()); ++u) {
        if (units_[u].parent < 0) awards_[DayIndex(d)].push_back(u);
      }
    }
    if (month == 12) StartDecember(first, last);
  }

  void StartYear(int jan1) {
    // The roots' annual plans.
    for (int32_t u = 0; u < static_cast<int32_t>(units_.size()); ++u) {
      if (units_[u].parent < 0) {
        plans_[RandomWorkday(jan1 + 2, jan1 + 14)].push_back(u);
      }
    }
    // Commitments: each cell registers on a day in January or February; its
    // members within a few days of it, ~90% of them.
    const int last_feb = DayIndex(absl::CivilDay(year_, 3, 1) - 1);
    const int32_t cells = static_cast<int32_t>(cell_unit_.size());
    for (int32_t c = 0; c < cells; ++c) {
      const int day = RandomWorkday(jan1 + 4, last_feb - 10);
      if (rng_.Chance(0.5)) {
        cell_collective_[c] = 1;
        regs_[day].push_back(-(c + 1));
      }
      for (int32_t m = cell_first_member_[c]; m < cell_first_member_[c + 1];
           ++m) {
        if (!rng_.Chance(0.9)) continue;
        regs_[RandomWorkday(day, std::min(day + 6, last_feb))].push_back(m);
      }
    }
  }

  void StartDecember(int first, int last) {
    // Each cell's year-end review day; its registered members (~95%) and the
    // cell itself are evaluated then.
    const int32_t cells = static_cast<int32_t>(cell_unit_.size());
    for (int32_t c = 0; c < cells; ++c) {
      cell_review_day_[c] =
          static_cast<int16_t>(RandomWorkday(first + 9, last - 4));
      if (cell_collective_[c] && rng_.Chance(0.95)) {
        evals_[cell_review_day_[c]].push_back(-(c + 1));
      }
    }
    for (int32_t m = 0; m < static_cast<int32_t>(member_cell_.size()); ++m) {
      if (member_cell_[m] < 0 || !(member_flags_[m] & kRegistered)) continue;
      if (!rng_.Chance(0.95)) continue;
      evals_[cell_review_day_[member_cell_[m]]].push_back(m);
    }
    // Giấy khen from the roots' children, late in December.
    for (int32_t u = 0; u < static_cast<int32_t>(units_.size()); ++u) {
      const Unit& unit = units_[u];
      if (unit.depth == 1 && !IsCellKind(unit.kind) &&
          unit.cell_end > unit.cell_begin && rng_.Chance(0.7)) {
        awards_[RandomWorkday(last - 6, last - 1)].push_back(u);
      }
    }
  }

  // --- one day -------------------------------------------------------------

  void Day(int day) {
    const absl::CivilDay date = DayOf(day);
    if (date.day() == 1) StartMonth(date.month());
    for (uint8_t kind : Take(&changes_[day])) {
      Change(date, static_cast<ChangeKind>(kind));
    }
    for (int32_t u : Take(&plans_[day])) Plan(day, u);
    for (int32_t s : Take(&sessions_[day])) Session(date, s / 2, s % 2 == 1);
    for (int32_t r : Take(&regs_[day])) Register(date, r);
    for (int32_t r : Take(&evals_[day])) Evaluate(date, r);
    for (int32_t u : Take(&awards_[day])) Award(date, u);
  }

  template <typename T>
  static std::vector<T> Take(std::vector<T>* v) {
    std::vector<T> out;
    out.swap(*v);
    return out;
  }

  // A member still in a cell, preferably in [lo, hi); -1 if none was found.
  int32_t PickMember(int32_t lo, int32_t hi, int32_t cell_lo, int32_t cell_hi,
                     int min_cell_size) {
    if (hi <= lo) return -1;
    for (int attempt = 0; attempt < 16; ++attempt) {
      const int32_t m = lo + rng_.Below(hi - lo);
      const int32_t c = member_cell_[m];
      if (c >= cell_lo && c < cell_hi && cell_count_[c] > min_cell_size) {
        return m;
      }
    }
    return -1;
  }

  void Change(absl::CivilDay date, ChangeKind kind) {
    const int32_t cells = static_cast<int32_t>(cell_unit_.size());
    const int32_t all = static_cast<int32_t>(member_cell_.size());
    switch (kind) {
      case kTransfer: {
        const int32_t m = PickMember(0, all, 0, cells, 3);
        if (m < 0) return;
        const int32_t from = member_cell_[m];
        const Unit& from_unit = units_[cell_unit_[from]];
        // A third move within their base organisation; the others anywhere
        // under the same root.
        const Unit& scope = rng_.Chance(0.33) && from_unit.base_org >= 0
                                ? units_[from_unit.base_org]
                                : units_[from_unit.root];
        const int32_t span = scope.cell_end - scope.cell_begin;
        if (span < 2) return;
        int32_t to = scope.cell_begin + rng_.Below(span - 1);
        if (to >= from) ++to;
        const bool internal =
            from_unit.base_org >= 0 &&
            units_[cell_unit_[to]].base_org == from_unit.base_org;
        v1::Event* e = NewEvent(date);
        v1::MemberTransferred* t = e->mutable_member_transferred();
        t->set_member_id(MemberId(m));
        t->set_from_cell_id(from_unit.id);
        t->set_to_cell_id(units_[cell_unit_[to]].id);
        t->set_type(internal ? v1::TRANSFER_TYPE_INTERNAL
                             : v1::TRANSFER_TYPE_OFFICIAL);
        member_cell_[m] = to;
        --cell_count_[from];
        ++cell_count_[to];
        Emit();
        break;
      }
      case kLeave: {
        const int32_t m = PickMember(0, all, 0, cells, 3);
        if (m < 0) return;
        const int32_t cell = member_cell_[m];
        static constexpr v1::LeaveReason kReasons[] = {
            v1::LEAVE_REASON_DECEASED,
            v1::LEAVE_REASON_DECEASED,
            v1::LEAVE_REASON_DECEASED,
            v1::LEAVE_REASON_TRANSFERRED_OUT_OF_SCOPE,
            v1::LEAVE_REASON_TRANSFERRED_OUT_OF_SCOPE,
            v1::LEAVE_REASON_TRANSFERRED_OUT_OF_SCOPE,
            v1::LEAVE_REASON_TRANSFERRED_OUT_OF_SCOPE,
            v1::LEAVE_REASON_RESIGNED,
            v1::LEAVE_REASON_STRUCK_OFF,
            v1::LEAVE_REASON_EXPELLED};
        v1::Event* e = NewEvent(date);
        v1::MemberLeft* l = e->mutable_member_left();
        l->set_member_id(MemberId(m));
        l->set_cell_id(units_[cell_unit_[cell]].id);
        l->set_reason(rng_.Pick(kReasons));
        member_cell_[m] = -1;
        --cell_count_[cell];
        --active_members_;
        Emit();
        break;
      }
      case kAdmit:
        EmitMember(rng_.Below(cells), date, v1::JOIN_KIND_ADMITTED,
                   v1::MEMBER_STATUS_PROBATIONARY);
        break;
      case kArrive:
        EmitMember(rng_.Below(cells), date, v1::JOIN_KIND_TRANSFERRED_IN,
                   v1::MEMBER_STATUS_OFFICIAL);
        break;
    }
  }

  std::string PlanId(int32_t u) const {
    return absl::StrCat(units_[u].id, ".kh", year_);
  }

  std::string PlanNumber(const Unit& unit) const {
    return absl::StrCat(unit.plan_number < 10 ? "0" : "", unit.plan_number,
                        "-KH/", unit.doc_tag);
  }

  // Issues unit u's plan: the roots' annual plans, the others implementing
  // their parent's. Schedules the plans of the children it requires.
  void Plan(int day, int32_t u) {
    Unit& unit = units_[u];
    const absl::CivilDay date = DayOf(day);
    unit.plan_number = static_cast<int16_t>(rng_.Between(1, 45));
    unit.plan_day = static_cast<int16_t>(day);
    v1::Event* e = NewEvent(date);
    v1::PlanIssued* p = e->mutable_plan_issued();
    p->set_plan_id(PlanId(u));
    p->set_issuer_unit_id(unit.id);
    p->set_issuer_organ(unit.parent < 0 || unit.kind == v1::UNIT_KIND_UPPER_BASE
                            ? "Ban Thường vụ"
                        : IsCellKind(unit.kind) ? "Chi ủy"
                                                : "Đảng ủy");
    v1::DocumentRef* doc = p->mutable_document();
    doc->set_number(PlanNumber(unit));
    doc->set_issuer(unit.issuer);
    SetDate(date, doc->mutable_date());
    p->set_campaign(v1::CAMPAIGN_KL01);
    const char* theme = kAnnualThemes[year_ % 4];
    if (unit.parent < 0) {
      doc->set_title(
          absl::StrCat("Kế hoạch học tập và làm theo tư tưởng, đạo "
                       "đức, phong cách Hồ Chí Minh năm ",
                       year_));
      p->set_kind(v1::PLAN_KIND_ANNUAL);
      p->add_implements_documents("01-KL/TW");
      p->add_implements_documents("05-CT/TW");
      p->add_content_items(absl::StrCat("Chuyên đề năm ", year_, ": ", theme));
    } else {
      const Unit& parent = units_[unit.parent];
      doc->set_title(absl::StrCat(
          "Kế hoạch thực hiện Kế hoạch số ", PlanNumber(parent), " ngày ",
          DayOf(parent.plan_day).day(), "/", DayOf(parent.plan_day).month(),
          "/", year_, " của ", parent.issuer));
      p->set_kind(v1::PLAN_KIND_IMPLEMENTATION);
      p->set_implements_plan_id(PlanId(unit.parent));
    }
    SetDate(absl::CivilDay(year_, 1, 1), p->mutable_period()->mutable_start());
    SetDate(absl::CivilDay(year_, 12, 31), p->mutable_period()->mutable_end());
    const int contents = rng_.Between(2, 4);
    const int offset = rng_.Below(7);
    for (int i = 0; i < contents; ++i) {
      p->add_content_items(kPlanContents[(offset + i) % 7]);
    }
    // What the children must do.
    std::vector<int32_t> required;
    if (unit.kind == v1::UNIT_KIND_DIRECT_UNDER_CENTRAL ||
        unit.kind == v1::UNIT_KIND_UPPER_BASE) {
      for (int32_t c = u + 1; c < unit.subtree_end; c = units_[c].subtree_end) {
        if (units_[c].kind != v1::UNIT_KIND_ATTACHED_CELL)
          required.push_back(c);
      }
    }
    const int due = day + 30;
    if (!required.empty()) {
      v1::PlanRequirement* r = p->add_requirements();
      r->set_action(v1::REQUIREMENT_ACTION_ISSUE_PLAN);
      r->set_applies_to(v1::APPLIES_TO_DIRECT_CHILDREN);
      SetDate(DayOf(due), r->mutable_due_date());
      r->set_description("Xây dựng kế hoạch thực hiện ở cấp mình");
    }
    if (unit.kind == v1::UNIT_KIND_DIRECT_UNDER_CENTRAL ||
        unit.kind == v1::UNIT_KIND_BASE_PARTY_COMMITTEE) {
      v1::PlanRequirement* r = p->add_requirements();
      if (unit.parent < 0) {
        r->set_action(v1::REQUIREMENT_ACTION_SUBMIT_REPORT);
        r->set_applies_to(v1::APPLIES_TO_DIRECT_CHILDREN);
        SetDate(absl::CivilDay(year_, 12, 15), r->mutable_due_date());
        r->set_description("Báo cáo kết quả thực hiện năm");
      } else {
        r->set_action(v1::REQUIREMENT_ACTION_HOLD_SESSION);
        r->set_applies_to(v1::APPLIES_TO_SUBTREE_CELLS);
        SetDate(absl::CivilDay(year_, 12, 31), r->mutable_due_date());
        r->set_description("Sinh hoạt chuyên đề ít nhất mỗi quý một lần");
      }
    }
    Emit();
    // ~90% on time, ~5% late, ~5% never.
    for (int32_t c : required) {
      const int roll = rng_.Below(100);
      int when = -1;
      if (roll < 90) {
        when = RandomWorkday(std::min(day + 2, due), due);
      } else if (roll < 95) {
        when = RandomWorkday(due + 1, due + 40);
      }
      if (when > day && when < days_) plans_[when].push_back(c);
    }
  }

  void Session(absl::CivilDay date, int32_t cell, bool thematic) {
    const Unit& unit = units_[cell_unit_[cell]];
    const int month = date.month();
    const int quarter = (month - 1) / 3 + 1;
    v1::Event* e = NewEvent(date);
    v1::SessionHeld* s = e->mutable_session_held();
    std::string id = absl::StrCat(unit.id, ".s", year_, "-");
    if (thematic) {
      absl::StrAppend(&id, "q", quarter, "t");
    } else {
      AppendPadded(&id, month, 2);
      id.push_back('r');
    }
    s->set_session_id(std::move(id));
    s->set_unit_id(unit.id);
    s->set_kind(thematic ? v1::SESSION_KIND_THEMATIC
                         : v1::SESSION_KIND_REGULAR);
    s->mutable_for_period()->set_year(year_);
    if (thematic) {
      s->mutable_for_period()->set_quarter(quarter);
      const char* topic = rng_.Pick(kThemes);
      s->set_topic(topic);
      s->add_tags("HCM");
      s->add_tags("KL01");
      v1::HcmItem* study = s->add_hcm_items();
      study->set_type(v1::HCM_ITEM_TYPE_STUDY);
      study->set_title(topic);
      if (rng_.Chance(0.7)) {
        v1::HcmItem* h = s->add_hcm_items();
        h->set_type(v1::HCM_ITEM_TYPE_STORY);
        h->set_title(rng_.Pick(kStories));
      }
      if (rng_.Chance(0.4)) {
        v1::HcmItem* h = s->add_hcm_items();
        h->set_type(v1::HCM_ITEM_TYPE_EXAMPLE);
        h->set_title(rng_.Pick(kExamples));
      }
    } else {
      s->mutable_for_period()->set_month(month);
      if (month == 12) {
        s->set_topic(
            absl::StrCat("Kiểm điểm, đánh giá, xếp loại chất lượng "
                         "tổ chức đảng và đảng viên năm ",
                         year_));
        s->add_tags("self_criticism");
      } else if (rng_.Chance(0.3)) {
        s->set_topic(absl::StrCat("Sinh hoạt chi bộ thường kỳ tháng ", month,
                                  "/", year_));
      }
      if (rng_.Chance(0.6)) {
        s->add_tags("HCM");
        v1::HcmItem* h = s->add_hcm_items();
        if (rng_.Chance(0.8)) {
          h->set_type(v1::HCM_ITEM_TYPE_STORY);
          h->set_title(rng_.Pick(kStories));
        } else {
          h->set_type(v1::HCM_ITEM_TYPE_QUOTE);
          h->set_title(rng_.Pick(kQuotes));
        }
      }
    }
    const int convened = cell_count_[cell];
    int absent = 0;
    for (int i = 0; i < convened; ++i) absent += rng_.Chance(0.06);
    absent = std::min(absent, convened / 5);
    int unexcused = 0;
    for (int i = 0; i < absent; ++i) unexcused += rng_.Chance(0.2);
    v1::Attendance* a = s->mutable_attendance();
    a->set_convened(convened);
    a->set_present(convened - absent);
    a->set_absent_excused(absent - unexcused);
    a->set_absent_unexcused(unexcused);
    s->set_duration_minutes(thematic ? 30 * rng_.Between(3, 6)
                                     : 15 * rng_.Between(4, 8));
    const int format = rng_.Below(100);
    s->set_format(format < 92   ? v1::SESSION_FORMAT_IN_PERSON
                  : format < 98 ? v1::SESSION_FORMAT_HYBRID
                                : v1::SESSION_FORMAT_ONLINE);
    if (rng_.Chance(0.3)) {
      s->set_location(unit.setting == v1::UNIT_SETTING_COMMUNE_WARD
                          ? "Nhà văn hóa"
                          : rng_.Pick(kLocations));
    }
    Emit();
  }

  // The items of a member's (index >= 0) or a cell's (-(cell + 1))
  // commitment, recomputed from the seed for the evaluation.
  struct Items {
    int count = 0;
    const Item* items[4];
  };
  Items CommitmentItems(int32_t who) const {
    Items out;
    if (who >= 0) {
      Rng r(Derive(seed_, kTagMemberItems, static_cast<uint64_t>(who)));
      out.count = r.Between(2, 4);
      const int start = r.Below(kCommitmentItemCount);
      const int step = 1 + r.Below(5);
      for (int i = 0; i < out.count; ++i) {
        out.items[i] =
            &kCommitmentItems[(start + i * step) % kCommitmentItemCount];
      }
    } else {
      Rng r(Derive(seed_, kTagCellItems, static_cast<uint64_t>(-who)));
      out.count = r.Between(2, 3);
      const int start = r.Below(kCollectiveItemCount);
      for (int i = 0; i < out.count; ++i) {
        out.items[i] = &kCollectiveItems[(start + i) % kCollectiveItemCount];
      }
    }
    return out;
  }

  std::string CommitmentId(int32_t who) const {
    return who >= 0 ? absl::StrCat("cm.", MemberId(who), ".", year_)
                    : absl::StrCat("cm.", units_[cell_unit_[-who - 1]].id, ".",
                                   year_);
  }

  void Register(absl::CivilDay date, int32_t who) {
    int32_t cell;
    if (who >= 0) {
      cell = member_cell_[who];
      if (cell < 0) return;  // left before registering
      member_flags_[who] |= kRegistered;
    } else {
      cell = -who - 1;
    }
    v1::Event* e = NewEvent(date);
    v1::CommitmentRegistered* c = e->mutable_commitment_registered();
    c->set_commitment_id(CommitmentId(who));
    if (who >= 0) {
      c->set_member_id(MemberId(who));
    } else {
      c->set_unit_id(units_[cell_unit_[cell]].id);
    }
    c->set_cell_id(units_[cell_unit_[cell]].id);
    c->set_campaign(v1::CAMPAIGN_KL01);
    c->mutable_period()->set_year(year_);
    const Items items = CommitmentItems(who);
    for (int i = 0; i < items.count; ++i) {
      v1::CommitmentItem* item = c->add_items();
      item->set_text(items.items[i]->text);
      item->set_category(items.items[i]->category);
      if (items.items[i]->measure[0] != '\0') {
        item->set_measure(items.items[i]->measure);
      }
    }
    Emit();
  }

  void Evaluate(absl::CivilDay date, int32_t who) {
    if (who >= 0 && member_cell_[who] < 0) return;  // left in December
    v1::Event* e = NewEvent(date);
    v1::CommitmentEvaluated* c = e->mutable_commitment_evaluated();
    c->set_commitment_id(CommitmentId(who));
    c->mutable_period()->set_year(year_);
    const bool fulfilled = rng_.Chance(0.85);
    c->set_outcome(fulfilled ? v1::EVALUATION_OUTCOME_FULFILLED
                             : v1::EVALUATION_OUTCOME_NOT_FULFILLED);
    const Items items = CommitmentItems(who);
    const int failed = fulfilled ? -1 : rng_.Below(items.count);
    for (int i = 0; i < items.count; ++i) {
      if (i == failed) {
        c->add_item_results(rng_.Chance(0.5) ? v1::ITEM_RESULT_NOT_ACHIEVED
                                             : v1::ITEM_RESULT_PARTLY);
      } else {
        c->add_item_results(rng_.Chance(0.2) ? v1::ITEM_RESULT_EXCEEDED
                                             : v1::ITEM_RESULT_ACHIEVED);
      }
    }
    c->set_evaluator(who >= 0 ? "Chi ủy" : "Đảng ủy cấp trên");
    Emit();
  }

  // Roots (in May): a Bằng khen to ~1% of their cells and one to some
  // members. Their children (in December): a Giấy khen to a few cells and
  // members of their subtree.
  void Award(absl::CivilDay date, int32_t u) {
    const Unit& unit = units_[u];
    const bool root = unit.parent < 0;
    const int32_t m_lo = cell_first_member_[unit.cell_begin];
    const int32_t m_hi = cell_first_member_[unit.cell_end];
    const int number = rng_.Between(100, 990);
    for (int part = 0; part < (root ? 2 : 1); ++part) {
      v1::Event* e = NewEvent(date);
      v1::AwardGiven* a = e->mutable_award_given();
      a->set_award_id(absl::StrCat(unit.id, root ? ".bk" : ".gk", year_,
                                   root ? (part == 0 ? ".tt" : ".cn") : ""));
      a->set_kind(root ? v1::AWARD_KIND_BANG_KHEN : v1::AWARD_KIND_GIAY_KHEN);
      v1::DocumentRef* d = a->mutable_decision();
      d->set_number(absl::StrCat(number + part, "-QĐ/", unit.doc_tag));
      d->set_issuer(unit.issuer);
      SetDate(date, d->mutable_date());
      d->set_title(absl::StrCat(
          "Quyết định tặng ", root ? "Bằng khen" : "Giấy khen",
          !root       ? " cho các tập thể và cá nhân"
          : part == 0 ? " cho các tập thể"
                      : " cho các cá nhân",
          " có thành tích xuất sắc trong học tập và làm theo tư tưởng, đạo "
          "đức, phong cách Hồ Chí Minh"));
      v1::AwardIssuer* issuer = a->mutable_issuer();
      issuer->set_system(v1::ISSUER_SYSTEM_PARTY);
      issuer->set_level(root ? v1::ISSUER_LEVEL_MINISTRY_PROVINCE
                        : unit.kind == v1::UNIT_KIND_UPPER_BASE
                            ? v1::ISSUER_LEVEL_UPPER_BASE
                            : v1::ISSUER_LEVEL_BASE);
      issuer->set_organ(root && scale_ != Scale::kNational
                            ? "Ban Thường vụ Đảng ủy Khối"
                        : root ? absl::StrCat("Ban Thường vụ ", unit.organ)
                               : unit.organ);
      issuer->set_unit_id(unit.id);
      a->set_campaign(v1::CAMPAIGN_KL01);
      a->set_title(absl::StrCat(
          "Đã có thành tích xuất sắc trong học tập và làm theo tư tưởng, đạo "
          "đức, phong cách Hồ Chí Minh năm ",
          root ? year_ - 1 : year_));
      const int period_year = root ? year_ - 1 : year_;
      SetDate(absl::CivilDay(period_year, 1, 1),
              a->mutable_achievement_period()->mutable_start());
      SetDate(absl::CivilDay(period_year, 12, 31),
              a->mutable_achievement_period()->mutable_end());
      const int32_t span = unit.cell_end - unit.cell_begin;
      if (part == 0) {
        // Collectives: ~1% of the root's cells, or 1-3 cells.
        if (root) {
          for (int32_t c = unit.cell_begin; c < unit.cell_end; ++c) {
            if (!rng_.Chance(0.01)) continue;
            AddUnitRecipient(a, c);
            if (a->recipients_size() >= 300) break;
          }
        }
        if (a->recipients().empty()) {
          const int n = std::min<int32_t>(span, rng_.Between(1, 3));
          const int32_t first = rng_.Below(span);
          for (int i = 0; i < n; ++i) {
            AddUnitRecipient(a, unit.cell_begin + (first + i) % span);
          }
        }
      }
      if (part == 1 || !root) {
        // Individuals: ~1 in 1,000 members, or 1-4 members.
        const int n =
            root ? std::max<int>(1, (m_hi - m_lo) / 1000) : rng_.Between(1, 4);
        absl::flat_hash_set<int32_t> chosen;
        for (int i = 0; i < std::min(n, 300); ++i) {
          const int32_t m =
              PickMember(m_lo, m_hi, unit.cell_begin, unit.cell_end, 0);
          if (m < 0 || !chosen.insert(m).second) continue;
          v1::AwardRecipient* r = a->add_recipients();
          r->set_type(v1::RECIPIENT_TYPE_MEMBER);
          r->set_member_id(MemberId(m));
          r->set_counted_under_unit_id(units_[cell_unit_[member_cell_[m]]].id);
        }
      }
      if (!a->recipients().empty()) Emit();
    }
  }

  void AddUnitRecipient(v1::AwardGiven* a, int32_t cell) {
    v1::AwardRecipient* r = a->add_recipients();
    r->set_type(v1::RECIPIENT_TYPE_PARTY_UNIT);
    r->set_unit_id(units_[cell_unit_[cell]].id);
  }

  void FillStats() {
    *stats_ = GenStats();
    stats_->events = events_;
    for (int f = 0; f < kMaxPayload; ++f) {
      if (type_counts_[f] == 0) continue;
      const FieldDescriptor* field =
          v1::Event::descriptor()->FindFieldByNumber(f);
      stats_->by_type[field->message_type()->name()] = type_counts_[f];
    }
    for (const Unit& u : units_) {
      absl::string_view kind = v1::UnitKind_Name(u.kind);
      absl::ConsumePrefix(&kind, "UNIT_KIND_");
      ++stats_->units_by_kind[std::string(kind)];
    }
    stats_->units = static_cast<int64_t>(units_.size());
    stats_->cells = static_cast<int64_t>(cell_unit_.size());
    stats_->members = static_cast<int64_t>(member_cell_.size());
    stats_->members_at_end = active_members_;
  }

  static constexpr uint8_t kRegistered = 1;
  static constexpr int kMaxPayload = 64;

  const Scale scale_;
  const uint64_t seed_;
  const int year_;
  Rng rng_;
  const EventSink& emit_;
  GenStats* stats_;
  const absl::CivilDay jan1_;
  const int days_;

  static constexpr size_t kArenaBlock = 64 << 10;
  std::unique_ptr<char[]> arena_block_;
  google::protobuf::Arena arena_;
  v1::Event* ev_ = nullptr;
  bool stopped_ = false;
  int64_t events_ = 0;
  int64_t type_counts_[kMaxPayload] = {};

  std::vector<Unit> units_;                 // preorder: parents before children
  std::vector<int32_t> cell_unit_;          // cell index -> unit index
  std::vector<int32_t> cell_count_;         // members in the cell now
  std::vector<int32_t> cell_first_member_;  // initial members, by cell
  std::vector<int16_t> cell_review_day_;
  std::vector<uint8_t> cell_collective_;  // registers a collective pledge
  int members_lo_ = 4;
  int members_spread_ = 9;
  double members_tail_chance_ = 0.1;

  std::vector<int32_t> member_cell_;  // member -> cell index; -1 once left
  std::vector<uint8_t> member_flags_;
  int64_t active_members_ = 0;

  // What happens on each day of the year.
  std::vector<std::vector<uint8_t>> changes_;   // ChangeKind
  std::vector<std::vector<int32_t>> plans_;     // unit
  std::vector<std::vector<int32_t>> sessions_;  // cell * 2 + thematic
  std::vector<std::vector<int32_t>> regs_;      // member, or -(cell + 1)
  std::vector<std::vector<int32_t>> evals_;     // member, or -(cell + 1)
  std::vector<std::vector<int32_t>> awards_;    // unit
};

// ---------------------------------------------------------------------------
// JSON.
//
// protobuf's own printer goes through the binary encoding and a type
// resolver (~50,000 events/s); this walks the message with reflection along
// a plan computed once per message type: fields in field-number order (the
// order protobuf prints them in) with their keys ready.

struct JsonMessagePlan;

struct JsonFieldPlan {
  const FieldDescriptor* field;
  std::string key;                           // "\"jsonName\":"
  const JsonMessagePlan* message = nullptr;  // for message fields
  int oneof = -1;  // index into JsonMessagePlan::oneofs, or -1
};

struct JsonMessagePlan {
  const Reflection* reflection = nullptr;
  std::vector<JsonFieldPlan> fields;
  std::vector<const google::protobuf::OneofDescriptor*> oneofs;
};

// Plans for `d` and every message type reachable from it, or nullptr if one
// of them has a field this printer does not reproduce (maps, floating
// point, bytes, well-known types): those events go through protobuf.
class JsonPlans {
 public:
  explicit JsonPlans(const Descriptor* root) { root_ = Build(root); }
  const JsonMessagePlan* root() const { return supported_ ? root_ : nullptr; }

 private:
  const JsonMessagePlan* Build(const Descriptor* d) {
    auto [it, inserted] = plans_.try_emplace(d);
    JsonMessagePlan* plan = &it->second;
    if (!inserted) return plan;
    if (d->file()->package() == "google.protobuf") supported_ = false;
    plan->reflection = google::protobuf::MessageFactory::generated_factory()
                           ->GetPrototype(d)
                           ->GetReflection();
    std::vector<const FieldDescriptor*> fields;
    for (int i = 0; i < d->field_count(); ++i) fields.push_back(d->field(i));
    std::sort(fields.begin(), fields.end(),
              [](const FieldDescriptor* a, const FieldDescriptor* b) {
                return a->number() < b->number();
              });
    for (const FieldDescriptor* f : fields) {
      JsonFieldPlan fp;
      fp.field = f;
      fp.key = absl::StrCat("\"", f->json_name(), "\":");
      if (f->is_map() || f->type() == FieldDescriptor::TYPE_BYTES ||
          f->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT ||
          f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        supported_ = false;
      }
      const google::protobuf::OneofDescriptor* oneof =
          f->real_containing_oneof();
      if (oneof != nullptr) {
        auto pos = std::find(plan->oneofs.begin(), plan->oneofs.end(), oneof);
        fp.oneof = static_cast<int>(pos - plan->oneofs.begin());
        if (pos == plan->oneofs.end()) plan->oneofs.push_back(oneof);
      }
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        fp.message = Build(f->message_type());
      }
      plan->fields.push_back(std::move(fp));
    }
    return plan;
  }

  absl::node_hash_map<const Descriptor*, JsonMessagePlan> plans_;
  const JsonMessagePlan* root_ = nullptr;
  bool supported_ = true;
};

// Appends `s` quoted the way protobuf 3.21 prints it, or returns false if it
// holds a character this function does not know protobuf's escaping of.
bool AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      const char* escaped = nullptr;
      switch (c) {
        case '"':
          escaped = "\\\"";
          break;
        case '\\':
          escaped = "\\\\";
          break;
        case '<':
          escaped = "\\u003c";
          break;
        case '>':
          escaped = "\\u003e";
          break;
        default:
          if (c < 0x20 || c == 0x7f) return false;
      }
      if (escaped != nullptr) {
        out->append(s.data() + run, i - run);
        out->append(escaped);
        run = i + 1;
      }
      ++i;
      continue;
    }
    uint32_t cp;
    size_t len;
    if ((c & 0xE0) == 0xC0 && i + 1 < n && (p[i + 1] & 0xC0) == 0x80) {
      cp = ((c & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
      len = 2;
    } else if ((c & 0xF0) == 0xE0 && i + 2 < n && (p[i + 1] & 0xC0) == 0x80 &&
               (p[i + 2] & 0xC0) == 0x80) {
      cp = ((c & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu);
      len = 3;
    } else {
      return false;
    }
    // Latin letters with Vietnamese marks, dashes and quotation marks:
    // protobuf prints these as they are.
    const bool plain = (cp >= 0xC0 && cp <= 0x24F) ||
                       (cp >= 0x1E00 && cp <= 0x1EFF) ||
                       (cp >= 0x2010 && cp <= 0x2026);
    if (!plain) return false;
    i += len;
  }
  out->append(s.data() + run, n - run);
  out->push_back('"');
  return true;
}

bool AppendJsonMessage(const Message& m, const JsonMessagePlan& plan,
                       std::string* out);

// One value of field `fp` (element `index` if repeated, else -1).
bool AppendJsonValue(const Message& m, const Reflection* r,
                     const JsonFieldPlan& fp, int index, std::string* out) {
  const FieldDescriptor* f = fp.field;
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      absl::StrAppend(
          out, rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      return true;
    case FieldDescriptor::CPPTYPE_UINT32:
      absl::StrAppend(
          out, rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      return true;
    case FieldDescriptor::CPPTYPE_INT64:
      absl::StrAppend(
          out, "\"", rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f),
          "\"");
      return true;
    case FieldDescriptor::CPPTYPE_UINT64:
      absl::StrAppend(
          out, "\"",
          rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f), "\"");
      return true;
    case FieldDescriptor::CPPTYPE_BOOL:
      out->append((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f))
                      ? "true"
                      : "false");
      return true;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int value =
          rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
      const google::protobuf::EnumValueDescriptor* v =
          f->enum_type()->FindValueByNumber(value);
      if (v == nullptr) return false;  // protobuf prints the number
      out->push_back('"');
      out->append(v->name());
      out->push_back('"');
      return true;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s =
          rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
              : r->GetStringReference(m, f, &scratch);
      return AppendJsonString(s, out);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return AppendJsonMessage(
          rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f),
          *fp.message, out);
    default:
      return false;
  }
}

bool AppendJsonMessage(const Message& m, const JsonMessagePlan& plan,
                       std::string* out) {
  const Reflection* r = plan.reflection;
  // The set field of each oneof, looked up once.
  const FieldDescriptor* active[4] = {};
  const size_t oneofs = std::min<size_t>(plan.oneofs.size(), 4);
  for (size_t i = 0; i < oneofs; ++i) {
    active[i] = r->GetOneofFieldDescriptor(m, plan.oneofs[i]);
  }
  out->push_back('{');
  bool first = true;
  for (const JsonFieldPlan& fp : plan.fields) {
    const FieldDescriptor* f = fp.field;
    int count = 0;
    if (f->is_repeated()) {
      count = r->FieldSize(m, f);
      if (count == 0) continue;
    } else if (fp.oneof >= 0 && fp.oneof < 4) {
      if (active[fp.oneof] != f) continue;
    } else if (!r->HasField(m, f)) {
      continue;
    }
    if (!first) out->push_back(',');
    first = false;
    out->append(fp.key);
    if (f->is_repeated()) {
      out->push_back('[');
      for (int i = 0; i < count; ++i) {
        if (i > 0) out->push_back(',');
        if (!AppendJsonValue(m, r, fp, i, out)) return false;
      }
      out->push_back(']');
    } else if (!AppendJsonValue(m, r, fp, -1, out)) {
      return false;
    }
  }
  out->push_back('}');
  return true;
}

// ---------------------------------------------------------------------------
// Checking.

uint64_t HashId(absl::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return Mix64(h);
}

absl::Status Broken(absl::string_view what) {
  return absl::InvalidArgumentError(what);
}

}  // namespace

// ---------------------------------------------------------------------------
// Public API.

absl::Status Generate(const GenOptions& options, const EventSink& emit,
                      GenStats* stats) {
  Scale scale;
  if (options.scale == "tiny") {
    scale = Scale::kTiny;
  } else if (options.scale == "bloc") {
    scale = Scale::kBloc;
  } else if (options.scale == "national") {
    scale = Scale::kNational;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "scale: '", options.scale, "' is not one of tiny, bloc, national"));
  }
  if (options.year < 1950 || options.year > 2190) {
    return absl::InvalidArgumentError(
        absl::StrCat("year: ", options.year, " is outside 1950..2190"));
  }
  GenStats ignored;
  return Generator(scale, options, emit, stats != nullptr ? stats : &ignored)
      .Run();
}

void AppendJsonLine(const v1::Event& event, std::string* out) {
  static const JsonPlans* const plans = new JsonPlans(v1::Event::descriptor());
  const size_t start = out->size();
  out->append("{\"event\":");
  if (plans->root() == nullptr ||
      !AppendJsonMessage(event, *plans->root(), out)) {
    out->resize(start);
    out->append(ProtobufJsonLine(event));
    return;
  }
  out->append("}\n");
}

std::string ProtobufJsonLine(const v1::Event& event) {
  v1::BatchEntry entry;
  *entry.mutable_event() = event;
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  // An Event always prints; a failure would show as an empty object.
  if (!google::protobuf::util::MessageToJsonString(entry, &json, options)
           .ok()) {
    json = "{}";
  }
  json.push_back('\n');
  return json;
}

struct StreamChecker::State {
  struct UnitInfo {
    bool cell = false;
    int32_t members = 0;
  };
  struct Commitment {
    int32_t registered = 0;  // day number
    bool evaluated = false;
  };

  services::ValidationLimits limits;
  absl::CivilDay today{2199, 12, 30};
  int64_t last_day = std::numeric_limits<int64_t>::min();
  absl::flat_hash_map<std::string, int32_t> units;  // id -> index in info
  std::vector<UnitInfo> info;
  absl::flat_hash_map<uint64_t, int32_t> members;  // -> unit index; -1: left
  absl::flat_hash_set<uint64_t> sessions;
  absl::flat_hash_set<std::string> plans;
  absl::flat_hash_set<std::string> documents;
  absl::flat_hash_map<uint64_t, Commitment> commitments;
  absl::flat_hash_set<std::string> awards;

  // The index of unit `id`, or -1.
  int32_t FindUnit(const std::string& id) const {
    auto it = units.find(id);
    return it == units.end() ? -1 : it->second;
  }
  // The cell `id`, or an error naming `field`.
  absl::Status Cell(const std::string& id, absl::string_view field,
                    int32_t* cell) const {
    *cell = FindUnit(id);
    if (*cell < 0) {
      return Broken(absl::StrCat(field, ": unit '", id,
                                 "' was not created on an earlier line"));
    }
    if (!info[*cell].cell) {
      return Broken(absl::StrCat(field, ": unit '", id, "' is not a cell"));
    }
    return absl::OkStatus();
  }
  // The cell member `id` is in now, or an error.
  absl::Status MemberCell(const std::string& id, absl::string_view field,
                          int32_t* cell) const {
    auto it = members.find(HashId(id));
    if (it == members.end()) {
      return Broken(absl::StrCat(field, ": member '", id,
                                 "' has not joined on an earlier line"));
    }
    if (it->second < 0) {
      return Broken(absl::StrCat(field, ": member '", id, "' has left"));
    }
    *cell = it->second;
    return absl::OkStatus();
  }
};

StreamChecker::StreamChecker() : state_(std::make_unique<State>()) {}
StreamChecker::~StreamChecker() = default;

absl::Status StreamChecker::Check(const v1::Event& event) {
  State& s = *state_;
  std::unique_ptr<v1::Event> normalized;
  absl::Status valid =
      services::ValidateEvent(event, "event", s.limits, s.today, &normalized);
  if (!valid.ok()) {
    return Broken(absl::StrCat("schema validation: ", valid.message()));
  }
  if (normalized != nullptr) {
    return Broken("schema validation: some text is not in NFC");
  }
  const v1::Date& d = event.business_date();
  const int64_t day =
      absl::CivilDay(d.year(), d.month(), d.day()) - absl::CivilDay(1970, 1, 1);
  if (day < s.last_day) {
    return Broken("business_date: earlier than the line before");
  }
  s.last_day = day;

  switch (event.payload_case()) {
    case v1::Event::kUnitCreated: {
      const v1::UnitCreated& u = event.unit_created();
      if (!u.parent_id().empty() && s.FindUnit(u.parent_id()) < 0) {
        return Broken(absl::StrCat("unit_created.parent_id: '", u.parent_id(),
                                   "' was not created on an earlier line"));
      }
      const int32_t index = static_cast<int32_t>(s.info.size());
      if (!s.units.emplace(u.unit_id(), index).second) {
        return Broken(absl::StrCat("unit_created.unit_id: '", u.unit_id(),
                                   "' was created before"));
      }
      s.info.push_back({IsCellKind(u.kind()), 0});
      break;
    }
    case v1::Event::kMemberJoined: {
      const v1::MemberJoined& j = event.member_joined();
      int32_t cell;
      if (absl::Status st = s.Cell(j.cell_id(), "member_joined.cell_id", &cell);
          !st.ok()) {
        return st;
      }
      if (!s.members.emplace(HashId(j.member_id()), cell).second) {
        return Broken(absl::StrCat("member_joined.member_id: '", j.member_id(),
                                   "' joined before"));
      }
      ++s.info[cell].members;
      break;
    }
    case v1::Event::kMemberTransferred: {
      const v1::MemberTransferred& t = event.member_transferred();
      int32_t from, to, now;
      if (absl::Status st = s.Cell(t.from_cell_id(),
                                   "member_transferred.from_cell_id", &from);
          !st.ok()) {
        return st;
      }
      if (absl::Status st =
              s.Cell(t.to_cell_id(), "member_transferred.to_cell_id", &to);
          !st.ok()) {
        return st;
      }
      if (absl::Status st =
              s.MemberCell(t.member_id(), "member_transferred.member_id", &now);
          !st.ok()) {
        return st;
      }
      if (now != from) {
        return Broken("member_transferred.from_cell_id: not the member's cell");
      }
      s.members[HashId(t.member_id())] = to;
      --s.info[from].members;
      ++s.info[to].members;
      break;
    }
    case v1::Event::kMemberLeft: {
      const v1::MemberLeft& l = event.member_left();
      int32_t cell, now;
      if (absl::Status st = s.Cell(l.cell_id(), "member_left.cell_id", &cell);
          !st.ok()) {
        return st;
      }
      if (absl::Status st =
              s.MemberCell(l.member_id(), "member_left.member_id", &now);
          !st.ok()) {
        return st;
      }
      if (now != cell) {
        return Broken("member_left.cell_id: not the member's cell");
      }
      s.members[HashId(l.member_id())] = -1;
      --s.info[cell].members;
      break;
    }
    case v1::Event::kSessionHeld: {
      const v1::SessionHeld& h = event.session_held();
      const int32_t unit = s.FindUnit(h.unit_id());
      if (unit < 0) {
        return Broken(absl::StrCat("session_held.unit_id: '", h.unit_id(),
                                   "' was not created on an earlier line"));
      }
      if (!s.sessions.insert(HashId(h.session_id())).second) {
        return Broken(absl::StrCat("session_held.session_id: '", h.session_id(),
                                   "' was used before"));
      }
      if (s.info[unit].cell && h.has_attendance() &&
          h.attendance().convened() != s.info[unit].members) {
        return Broken(absl::StrCat(
            "session_held.attendance.convened: ", h.attendance().convened(),
            " but the cell has ", s.info[unit].members, " members"));
      }
      break;
    }
    case v1::Event::kPlanIssued: {
      const v1::PlanIssued& p = event.plan_issued();
      if (s.FindUnit(p.issuer_unit_id()) < 0) {
        return Broken("plan_issued.issuer_unit_id: not created before");
      }
      if (!p.implements_plan_id().empty() &&
          !s.plans.contains(p.implements_plan_id())) {
        return Broken(absl::StrCat("plan_issued.implements_plan_id: '",
                                   p.implements_plan_id(),
                                   "' was not issued on an earlier line"));
      }
      if (!s.plans.insert(p.plan_id()).second) {
        return Broken(absl::StrCat("plan_issued.plan_id: '", p.plan_id(),
                                   "' was issued before"));
      }
      const v1::DocumentRef& doc = p.document();
      if (!s.documents
               .insert(absl::StrCat(doc.number(), "\x1f", doc.issuer(), "\x1f",
                                    doc.date().year(), "-", doc.date().month(),
                                    "-", doc.date().day()))
               .second) {
        return Broken(absl::StrCat("plan_issued.document: ", doc.number(),
                                   " of ", doc.issuer(),
                                   " on that date was issued before"));
      }
      break;
    }
    case v1::Event::kCommitmentRegistered: {
      const v1::CommitmentRegistered& c = event.commitment_registered();
      int32_t cell;
      if (absl::Status st =
              s.Cell(c.cell_id(), "commitment_registered.cell_id", &cell);
          !st.ok()) {
        return st;
      }
      if (!c.member_id().empty()) {
        int32_t now;
        if (absl::Status st = s.MemberCell(
                c.member_id(), "commitment_registered.member_id", &now);
            !st.ok()) {
          return st;
        }
        if (now != cell) {
          return Broken(
              "commitment_registered.cell_id: not the member's cell that day");
        }
      } else if (s.FindUnit(c.unit_id()) < 0) {
        return Broken("commitment_registered.unit_id: not created before");
      }
      if (!s.commitments
               .emplace(HashId(c.commitment_id()),
                        State::Commitment{static_cast<int32_t>(day), false})
               .second) {
        return Broken(absl::StrCat("commitment_registered.commitment_id: '",
                                   c.commitment_id(), "' was used before"));
      }
      break;
    }
    case v1::Event::kCommitmentEvaluated: {
      const v1::CommitmentEvaluated& c = event.commitment_evaluated();
      auto it = s.commitments.find(HashId(c.commitment_id()));
      if (it == s.commitments.end()) {
        return Broken(absl::StrCat("commitment_evaluated.commitment_id: '",
                                   c.commitment_id(),
                                   "' was not registered on an earlier line"));
      }
      if (it->second.evaluated) {
        return Broken("commitment_evaluated.commitment_id: evaluated twice");
      }
      if (day <= it->second.registered) {
        return Broken("commitment_evaluated: not after the registration");
      }
      it->second.evaluated = true;
      break;
    }
    case v1::Event::kAwardGiven: {
      const v1::AwardGiven& a = event.award_given();
      if (!s.awards.insert(a.award_id()).second) {
        return Broken(absl::StrCat("award_given.award_id: '", a.award_id(),
                                   "' was used before"));
      }
      if (!a.issuer().unit_id().empty() &&
          s.FindUnit(a.issuer().unit_id()) < 0) {
        return Broken("award_given.issuer.unit_id: not created before");
      }
      for (const v1::AwardRecipient& r : a.recipients()) {
        if (!r.unit_id().empty() && s.FindUnit(r.unit_id()) < 0) {
          return Broken(absl::StrCat("award_given.recipients: unit '",
                                     r.unit_id(), "' was not created before"));
        }
        if (!r.member_id().empty()) {
          int32_t now;
          if (absl::Status st =
                  s.MemberCell(r.member_id(), "award_given.recipients", &now);
              !st.ok()) {
            return st;
          }
        }
      }
      break;
    }
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status StreamChecker::Finish() {
  for (const auto& [id, index] : state_->units) {
    const State::UnitInfo& u = state_->info[index];
    if (u.cell && u.members < 3) {
      return Broken(absl::StrCat("cell '", id, "' ends with ", u.members,
                                 " members; every cell has at least 3"));
    }
  }
  return absl::OkStatus();
}

absl::Status WriteJsonLines(const GenOptions& options, bool check,
                            const ChunkSink& sink, GenStats* stats) {
  constexpr size_t kChunk = 1 << 20;
  std::string buffer;
  buffer.reserve(kChunk + (64 << 10));
  std::unique_ptr<StreamChecker> checker;
  if (check) checker = std::make_unique<StreamChecker>();
  absl::Status failure;
  int64_t line = 0;
  absl::Status generated = Generate(
      options,
      [&](const v1::Event& event) {
        ++line;
        const size_t start = buffer.size();
        AppendJsonLine(event, &buffer);
        if (checker != nullptr) {
          absl::Status s = checker->Check(event);
          if (s.ok() && absl::string_view(buffer).substr(start) !=
                            ProtobufJsonLine(event)) {
            s = absl::InternalError(
                "the fast JSON differs from protobuf's MessageToJsonString");
          }
          if (!s.ok()) {
            failure = absl::Status(s.code(),
                                   absl::StrCat("line ", line, " (",
                                                services::EventTypeName(event),
                                                "): ", s.message()));
            return false;
          }
        }
        if (buffer.size() >= kChunk) {
          if (!sink(buffer)) {
            failure = absl::DataLossError("writing the output failed");
            return false;
          }
          buffer.clear();
        }
        return true;
      },
      stats);
  if (!failure.ok()) return failure;
  if (!generated.ok()) return generated;
  if (checker != nullptr) {
    if (absl::Status s = checker->Finish(); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("at the end: ", s.message()));
    }
  }
  if (!buffer.empty() && !sink(buffer)) {
    return absl::DataLossError("writing the output failed");
  }
  return absl::OkStatus();
}

}  // namespace nenep::gen
