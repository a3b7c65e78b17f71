#include "services/common/validation.h"

#include <memory>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/unknown_field_set.h"
#include "services/common/calendar.h"
#include "services/common/text.h"
#include "services/common/wire_check.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// "path.field: what"; the path is built only when a check fails.
absl::Status Invalid(absl::string_view path, absl::string_view field,
                     absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ".", field, ": ", what));
}

std::string Sub(const std::string& path, absl::string_view field) {
  return absl::StrCat(path, ".", field);
}

std::string Sub(const std::string& path, absl::string_view field, int index) {
  return absl::StrCat(path, ".", field, "[", index, "]");
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
}

// Control characters other than tab and line breaks have no place in text.
bool HasControlChar(absl::string_view text) {
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      return true;
    }
  }
  return false;
}

absl::Status CheckText(absl::string_view text, const std::string& path,
                       const ValidationLimits& limits, bool* needs_nfc) {
  if (text.size() > limits.max_text_bytes) {
    return Invalid(path,
                   absl::StrCat("text of ", text.size(), " bytes; at most ",
                                limits.max_text_bytes, " allowed"));
  }
  if (HasControlChar(text)) {
    return Invalid(path, "contains a control character");
  }
  if (!IsNfc(text)) *needs_nfc = true;
  return absl::OkStatus();
}

// Appends ".field" or ".field[i]" to *path and takes it off again when the
// object goes out of scope, so that walking a message allocates nothing.
class PathScope {
 public:
  PathScope(std::string* path, absl::string_view field, int index = -1)
      : path_(path), size_(path->size()) {
    path->push_back('.');
    path->append(field.data(), field.size());
    if (index >= 0) absl::StrAppend(path, "[", index, "]");
  }
  ~PathScope() { path_->resize(size_); }

 private:
  std::string* path_;
  size_t size_;
};

// The checks every message gets, whatever its type: no unknown fields (a
// newer client's data would be silently dropped), enum values this server
// knows, calendar dates, bounded text without control characters. Sets
// *needs_nfc if some text is not in NFC.
absl::Status CheckGeneric(const Message& msg, std::string* path,
                          const ValidationLimits& limits, bool* needs_nfc) {
  const Reflection* refl = msg.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown =
      refl->GetUnknownFields(msg);
  if (!unknown.empty()) {
    return Invalid(
        *path, absl::StrCat("unknown field number ", unknown.field(0).number(),
                            "; is the client newer than this server?"));
  }
  static const Descriptor* const kDate = v1::Date::descriptor();
  if (msg.GetDescriptor() == kDate) {
    return CheckDate(static_cast<const v1::Date&>(msg), *path).status();
  }
  thread_local std::vector<const FieldDescriptor*> fields_storage;
  std::vector<const FieldDescriptor*> fields;
  fields.swap(fields_storage);
  fields.clear();
  refl->ListFields(msg, &fields);
  absl::Status status;
  for (const FieldDescriptor* f : fields) {
    const int n = f->is_repeated() ? refl->FieldSize(msg, f) : 1;
    for (int i = 0; i < n && status.ok(); ++i) {
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING: {
          std::string scratch;
          const std::string& text =
              f->is_repeated()
                  ? refl->GetRepeatedStringReference(msg, f, i, &scratch)
                  : refl->GetStringReference(msg, f, &scratch);
          if (text.size() > limits.max_text_bytes || HasControlChar(text) ||
              !IsNfc(text)) {
            PathScope scope(path, f->name(), f->is_repeated() ? i : -1);
            status = CheckText(text, *path, limits, needs_nfc);
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_ENUM: {
          const int value = f->is_repeated()
                                ? refl->GetRepeatedEnumValue(msg, f, i)
                                : refl->GetEnumValue(msg, f);
          if (f->enum_type()->FindValueByNumber(value) == nullptr) {
            PathScope scope(path, f->name(), f->is_repeated() ? i : -1);
            status =
                Invalid(*path, absl::StrCat("unknown ", f->enum_type()->name(),
                                            " value ", value));
          }
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE: {
          PathScope scope(path, f->name(), f->is_repeated() ? i : -1);
          status = CheckGeneric(f->is_repeated()
                                    ? refl->GetRepeatedMessage(msg, f, i)
                                    : refl->GetMessage(msg, f),
                                path, limits, needs_nfc);
          break;
        }
        default:
          break;
      }
    }
    if (!status.ok()) break;
  }
  fields.swap(fields_storage);
  return status;
}

// Rewrites every string of `msg` in NFC.
absl::Status NormalizeStrings(Message* msg) {
  const Reflection* refl = msg->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  refl->ListFields(*msg, &fields);
  for (const FieldDescriptor* f : fields) {
    const int n = f->is_repeated() ? refl->FieldSize(*msg, f) : 1;
    for (int i = 0; i < n; ++i) {
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        std::string value = f->is_repeated()
                                ? refl->GetRepeatedString(*msg, f, i)
                                : refl->GetString(*msg, f);
        if (IsNfc(value)) continue;
        RETURN_IF_ERROR(NormalizeNfc(&value));
        if (f->is_repeated()) {
          refl->SetRepeatedString(msg, f, i, std::move(value));
        } else {
          refl->SetString(msg, f, std::move(value));
        }
      } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        RETURN_IF_ERROR(NormalizeStrings(
            f->is_repeated() ? refl->MutableRepeatedMessage(msg, f, i)
                             : refl->MutableMessage(msg, f)));
      }
    }
  }
  return absl::OkStatus();
}

bool IsValidId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

absl::Status RequireId(const std::string& id, absl::string_view path,
                       absl::string_view field) {
  if (id.empty()) return Invalid(path, field, "required");
  if (IsValidId(id)) return absl::OkStatus();
  return ValidateId(id, absl::StrCat(path, ".", field));
}

absl::Status OptionalId(const std::string& id, absl::string_view path,
                        absl::string_view field) {
  if (id.empty() || IsValidId(id)) return absl::OkStatus();
  return ValidateId(id, absl::StrCat(path, ".", field));
}

absl::Status RequireText(const std::string& text, absl::string_view path,
                         absl::string_view field) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      return absl::OkStatus();
    }
  }
  return Invalid(path, field, "required");
}

template <typename Enum>
absl::Status RequireEnum(Enum value, absl::string_view path,
                         absl::string_view field) {
  if (static_cast<int>(value) == 0) {
    return Invalid(path, field, "required (the zero value means not given)");
  }
  return absl::OkStatus();
}

absl::Status CheckRange(const v1::DateRange& range, const std::string& field,
                        bool required) {
  if (!range.has_start() && !range.has_end()) {
    return required ? Invalid(field, "required") : absl::OkStatus();
  }
  if (!range.has_start()) return Invalid(Sub(field, "start"), "required");
  if (!range.has_end()) return Invalid(Sub(field, "end"), "required");
  ASSIGN_OR_RETURN(int64_t start,
                   CheckDate(range.start(), Sub(field, "start")));
  ASSIGN_OR_RETURN(int64_t end, CheckDate(range.end(), Sub(field, "end")));
  if (end < start) {
    return Invalid(
        field, absl::StrCat("end ", FormatDayIso(range.end()),
                            " is before start ", FormatDayIso(range.start())));
  }
  return absl::OkStatus();
}

absl::Status CheckPeriodRef(const v1::PeriodRef& p, const std::string& field) {
  if (p.year() < 1900 || p.year() > 2199) {
    return Invalid(Sub(field, "year"),
                   absl::StrCat(p.year(), " is outside 1900..2199"));
  }
  switch (p.part_case()) {
    case v1::PeriodRef::kMonth:
      if (p.month() < 1 || p.month() > 12) {
        return Invalid(Sub(field, "month"),
                       absl::StrCat(p.month(), " is not 1..12"));
      }
      break;
    case v1::PeriodRef::kQuarter:
      if (p.quarter() < 1 || p.quarter() > 4) {
        return Invalid(Sub(field, "quarter"),
                       absl::StrCat(p.quarter(), " is not 1..4"));
      }
      break;
    case v1::PeriodRef::kHalf:
      if (p.half() < 1 || p.half() > 2) {
        return Invalid(Sub(field, "half"),
                       absl::StrCat(p.half(), " is not 1..2"));
      }
      break;
    case v1::PeriodRef::PART_NOT_SET:
      break;
  }
  return absl::OkStatus();
}

// First and last day (day numbers) of a period.
void PeriodBounds(const v1::PeriodRef& p, int64_t* first, int64_t* last) {
  int from_month = 1;
  int months = 12;
  switch (p.part_case()) {
    case v1::PeriodRef::kMonth:
      from_month = p.month();
      months = 1;
      break;
    case v1::PeriodRef::kQuarter:
      from_month = 3 * (p.quarter() - 1) + 1;
      months = 3;
      break;
    case v1::PeriodRef::kHalf:
      from_month = 6 * (p.half() - 1) + 1;
      months = 6;
      break;
    case v1::PeriodRef::PART_NOT_SET:
      break;
  }
  const int to_month = from_month + months - 1;
  *first = DayNumber(p.year(), from_month, 1);
  *last = DayNumber(p.year(), to_month, DaysInMonth(p.year(), to_month));
}

absl::Status CheckIdList(
    const google::protobuf::RepeatedPtrField<std::string>& ids,
    const std::string& path, absl::string_view field) {
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < ids.size(); ++i) {
    if (ids[i].empty()) return Invalid(Sub(path, field, i), "required");
    if (!IsValidId(ids[i])) return ValidateId(ids[i], Sub(path, field, i));
    if (!seen.insert(ids[i]).second) {
      return Invalid(Sub(path, field, i),
                     absl::StrCat("'", ids[i], "' is listed twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckUnitCreated(const v1::UnitCreated& e, const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.unit_id(), p, "unit_id"));
  RETURN_IF_ERROR(RequireEnum(e.kind(), p, "kind"));
  RETURN_IF_ERROR(RequireText(e.name(), p, "name"));
  RETURN_IF_ERROR(OptionalId(e.parent_id(), p, "parent_id"));
  if (e.parent_id() == e.unit_id()) {
    return Invalid(Sub(p, "parent_id"), "a unit cannot be its own parent");
  }
  if (e.parent_id().empty() && e.kind() != v1::UNIT_KIND_CENTRAL &&
      e.kind() != v1::UNIT_KIND_DIRECT_UNDER_CENTRAL) {
    return Invalid(Sub(p, "parent_id"),
                   absl::StrCat("required for a unit of kind ",
                                v1::UnitKind_Name(e.kind()),
                                " (only CENTRAL and DIRECT_UNDER_CENTRAL "
                                "units may be roots)"));
  }
  RETURN_IF_ERROR(
      CheckIdList(e.predecessor_unit_ids(), p, "predecessor_unit_ids"));
  return absl::OkStatus();
}

absl::Status CheckUnitRenamed(const v1::UnitRenamed& e, const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.unit_id(), p, "unit_id"));
  return RequireText(e.new_name(), p, "new_name");
}

absl::Status CheckUnitMoved(const v1::UnitMoved& e, const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.unit_id(), p, "unit_id"));
  RETURN_IF_ERROR(RequireId(e.from_parent_id(), p, "from_parent_id"));
  RETURN_IF_ERROR(RequireId(e.to_parent_id(), p, "to_parent_id"));
  if (e.to_parent_id() == e.from_parent_id()) {
    return Invalid(Sub(p, "to_parent_id"), "equals from_parent_id");
  }
  if (e.to_parent_id() == e.unit_id()) {
    return Invalid(Sub(p, "to_parent_id"),
                   "a unit cannot be moved under itself");
  }
  return absl::OkStatus();
}

absl::Status CheckUnitsMerged(const v1::UnitsMerged& e, const std::string& p) {
  if (e.source_unit_ids().empty()) {
    return Invalid(Sub(p, "source_unit_ids"), "at least one source required");
  }
  RETURN_IF_ERROR(CheckIdList(e.source_unit_ids(), p, "source_unit_ids"));
  RETURN_IF_ERROR(RequireId(e.target_unit_id(), p, "target_unit_id"));
  RETURN_IF_ERROR(RequireEnum(e.mode(), p, "mode"));
  for (const std::string& s : e.source_unit_ids()) {
    if (s == e.target_unit_id()) {
      return Invalid(Sub(p, "target_unit_id"),
                     "the target cannot also be a source");
    }
  }
  for (int i = 0; i < e.child_mappings_size(); ++i) {
    const std::string f = Sub(p, "child_mappings", i);
    RETURN_IF_ERROR(
        RequireId(e.child_mappings(i).child_unit_id(), f, "child_unit_id"));
    RETURN_IF_ERROR(
        RequireId(e.child_mappings(i).to_parent_id(), f, "to_parent_id"));
  }
  for (int i = 0; i < e.member_mappings_size(); ++i) {
    const std::string f = Sub(p, "member_mappings", i);
    RETURN_IF_ERROR(
        RequireId(e.member_mappings(i).member_id(), f, "member_id"));
    RETURN_IF_ERROR(
        RequireId(e.member_mappings(i).to_cell_id(), f, "to_cell_id"));
  }
  return absl::OkStatus();
}

absl::Status CheckUnitDissolved(const v1::UnitDissolved& e,
                                const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.unit_id(), p, "unit_id"));
  RETURN_IF_ERROR(RequireEnum(e.reason(), p, "reason"));
  RETURN_IF_ERROR(CheckIdList(e.successor_unit_ids(), p, "successor_unit_ids"));
  for (int i = 0; i < e.successor_unit_ids_size(); ++i) {
    if (e.successor_unit_ids(i) == e.unit_id()) {
      return Invalid(Sub(p, "successor_unit_ids", i),
                     "a unit cannot succeed itself");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMemberJoined(const v1::MemberJoined& e,
                               const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.member_id(), p, "member_id"));
  RETURN_IF_ERROR(RequireId(e.cell_id(), p, "cell_id"));
  RETURN_IF_ERROR(RequireEnum(e.status(), p, "status"));
  return RequireEnum(e.how(), p, "how");
}

absl::Status CheckMemberTransferred(const v1::MemberTransferred& e,
                                    const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.member_id(), p, "member_id"));
  RETURN_IF_ERROR(RequireId(e.from_cell_id(), p, "from_cell_id"));
  RETURN_IF_ERROR(RequireId(e.to_cell_id(), p, "to_cell_id"));
  if (e.from_cell_id() == e.to_cell_id()) {
    return Invalid(Sub(p, "to_cell_id"), "equals from_cell_id");
  }
  return RequireEnum(e.type(), p, "type");
}

absl::Status CheckMemberLeft(const v1::MemberLeft& e, const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.member_id(), p, "member_id"));
  RETURN_IF_ERROR(RequireId(e.cell_id(), p, "cell_id"));
  return RequireEnum(e.reason(), p, "reason");
}

absl::Status CheckPlanIssued(const v1::PlanIssued& e, const std::string& p,
                             int64_t issued) {
  RETURN_IF_ERROR(RequireId(e.plan_id(), p, "plan_id"));
  RETURN_IF_ERROR(RequireId(e.issuer_unit_id(), p, "issuer_unit_id"));
  RETURN_IF_ERROR(RequireEnum(e.kind(), p, "kind"));
  if (!e.has_document()) return Invalid(Sub(p, "document"), "required");
  RETURN_IF_ERROR(RequireText(e.document().number(), p, "document.number"));
  if (!e.document().has_date()) {
    return Invalid(Sub(p, "document.date"), "required");
  }
  RETURN_IF_ERROR(OptionalId(e.implements_plan_id(), p, "implements_plan_id"));
  if (e.implements_plan_id() == e.plan_id()) {
    return Invalid(Sub(p, "implements_plan_id"),
                   "a plan cannot implement itself");
  }
  RETURN_IF_ERROR(CheckRange(e.period(), Sub(p, "period"), false));
  for (int i = 0; i < e.requirements_size(); ++i) {
    const v1::PlanRequirement& r = e.requirements(i);
    const std::string f = Sub(p, "requirements", i);
    RETURN_IF_ERROR(RequireEnum(r.action(), f, "action"));
    RETURN_IF_ERROR(RequireEnum(r.applies_to(), f, "applies_to"));
    if (r.applies_to() == v1::APPLIES_TO_LISTED_UNITS) {
      if (r.unit_ids().empty()) {
        return Invalid(Sub(f, "unit_ids"),
                       "required when applies_to is LISTED_UNITS");
      }
    } else if (!r.unit_ids().empty()) {
      return Invalid(Sub(f, "unit_ids"),
                     "only allowed when applies_to is LISTED_UNITS");
    }
    RETURN_IF_ERROR(CheckIdList(r.unit_ids(), f, "unit_ids"));
    if (!r.has_due_date()) return Invalid(Sub(f, "due_date"), "required");
    ASSIGN_OR_RETURN(int64_t due, CheckDate(r.due_date(), Sub(f, "due_date")));
    if (due < issued) {
      return Invalid(Sub(f, "due_date"),
                     absl::StrCat(FormatDayIso(r.due_date()),
                                  " is before the plan's issue date"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSessionHeld(const v1::SessionHeld& e, const std::string& p,
                              int64_t held) {
  RETURN_IF_ERROR(RequireId(e.session_id(), p, "session_id"));
  RETURN_IF_ERROR(RequireId(e.unit_id(), p, "unit_id"));
  RETURN_IF_ERROR(RequireEnum(e.kind(), p, "kind"));
  if (e.kind() == v1::SESSION_KIND_THEMATIC ||
      e.kind() == v1::SESSION_KIND_COMBINED) {
    RETURN_IF_ERROR(RequireText(e.topic(), p, "topic"));
  }
  if (e.has_for_period()) {
    const std::string f = Sub(p, "for_period");
    RETURN_IF_ERROR(CheckPeriodRef(e.for_period(), f));
    const auto part = e.for_period().part_case();
    if (e.kind() == v1::SESSION_KIND_REGULAR && part != v1::PeriodRef::kMonth) {
      return Invalid(f, "a regular session counts for a month");
    }
    if (e.kind() == v1::SESSION_KIND_THEMATIC &&
        part != v1::PeriodRef::kQuarter) {
      return Invalid(f, "a thematic session counts for a quarter");
    }
    if (part == v1::PeriodRef::PART_NOT_SET) {
      return Invalid(f, "give a month or a quarter");
    }
    int64_t first = 0, last = 0;
    PeriodBounds(e.for_period(), &first, &last);
    // A session may be held a little before or after the period it counts
    // for, not months away from it.
    if (held < first - 7 || held > last + 15) {
      return Invalid(f,
                     "the held date (business_date) must lie between 7 "
                     "days before and 15 days after the period");
    }
  }
  for (int i = 0; i < e.tags_size(); ++i) {
    const std::string& tag = e.tags(i);
    if (tag.empty() || tag.size() > 64 ||
        tag.find_first_of(" \t\n") != std::string::npos) {
      return Invalid(Sub(p, "tags", i),
                     "a tag is 1 to 64 characters without spaces");
    }
  }
  for (int i = 0; i < e.hcm_items_size(); ++i) {
    const std::string f = Sub(p, "hcm_items", i);
    RETURN_IF_ERROR(RequireEnum(e.hcm_items(i).type(), f, "type"));
    RETURN_IF_ERROR(RequireText(e.hcm_items(i).title(), f, "title"));
  }
  if (e.has_attendance()) {
    const v1::Attendance& a = e.attendance();
    const std::string f = Sub(p, "attendance");
    if (a.convened() <= 0) {
      return Invalid(Sub(f, "convened"), "must be at least 1");
    }
    if (a.present() < 0 || a.absent_excused() < 0 || a.absent_unexcused() < 0) {
      return Invalid(f, "counts cannot be negative");
    }
    if (static_cast<int64_t>(a.present()) + a.absent_excused() +
            a.absent_unexcused() !=
        a.convened()) {
      return Invalid(
          f, absl::StrCat("present (", a.present(), ") + absent_excused (",
                          a.absent_excused(), ") + absent_unexcused (",
                          a.absent_unexcused(), ") must equal convened (",
                          a.convened(), ")"));
    }
  }
  if (e.duration_minutes() < 0 || e.duration_minutes() > 24 * 60) {
    return Invalid(Sub(p, "duration_minutes"),
                   absl::StrCat(e.duration_minutes(), " is not 0..1440"));
  }
  return absl::OkStatus();
}

absl::Status CheckCommitmentRegistered(const v1::CommitmentRegistered& e,
                                       const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.commitment_id(), p, "commitment_id"));
  if (e.member_id().empty() == e.unit_id().empty()) {
    return Invalid(p, "give exactly one registrant: member_id or unit_id");
  }
  RETURN_IF_ERROR(OptionalId(e.member_id(), p, "member_id"));
  RETURN_IF_ERROR(OptionalId(e.unit_id(), p, "unit_id"));
  RETURN_IF_ERROR(RequireId(e.cell_id(), p, "cell_id"));
  if (!e.has_period()) return Invalid(Sub(p, "period"), "required");
  RETURN_IF_ERROR(CheckPeriodRef(e.period(), Sub(p, "period")));
  if (e.items().empty()) {
    return Invalid(Sub(p, "items"), "at least one item required");
  }
  for (int i = 0; i < e.items_size(); ++i) {
    RETURN_IF_ERROR(RequireText(e.items(i).text(), Sub(p, "items", i), "text"));
  }
  return absl::OkStatus();
}

absl::Status CheckCommitmentEvaluated(const v1::CommitmentEvaluated& e,
                                      const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.commitment_id(), p, "commitment_id"));
  RETURN_IF_ERROR(RequireEnum(e.outcome(), p, "outcome"));
  if (e.has_period()) {
    RETURN_IF_ERROR(CheckPeriodRef(e.period(), Sub(p, "period")));
  }
  for (int i = 0; i < e.item_results_size(); ++i) {
    if (e.item_results(i) == v1::ITEM_RESULT_UNSPECIFIED) {
      return Invalid(Sub(p, "item_results", i), "required");
    }
  }
  return absl::OkStatus();
}

bool IsIndividual(v1::RecipientType type) {
  return type == v1::RECIPIENT_TYPE_MEMBER || type == v1::RECIPIENT_TYPE_PERSON;
}

absl::Status CheckAwardGiven(const v1::AwardGiven& e, const std::string& p) {
  RETURN_IF_ERROR(RequireId(e.award_id(), p, "award_id"));
  RETURN_IF_ERROR(RequireEnum(e.kind(), p, "kind"));
  if (!e.has_issuer()) return Invalid(Sub(p, "issuer"), "required");
  RETURN_IF_ERROR(RequireEnum(e.issuer().system(), p, "issuer.system"));
  RETURN_IF_ERROR(RequireEnum(e.issuer().level(), p, "issuer.level"));
  RETURN_IF_ERROR(RequireText(e.issuer().organ(), p, "issuer.organ"));
  RETURN_IF_ERROR(OptionalId(e.issuer().unit_id(), p, "issuer.unit_id"));
  RETURN_IF_ERROR(
      CheckRange(e.achievement_period(), Sub(p, "achievement_period"), false));
  if (e.recipients().empty() == !e.has_aggregate()) {
    return Invalid(p, "give either recipients or aggregate, not both");
  }
  const bool collective_only = e.kind() == v1::AWARD_KIND_CO_THI_DUA;
  for (int i = 0; i < e.recipients_size(); ++i) {
    const v1::AwardRecipient& r = e.recipients(i);
    const std::string f = Sub(p, "recipients", i);
    RETURN_IF_ERROR(RequireEnum(r.type(), f, "type"));
    if (r.type() == v1::RECIPIENT_TYPE_PARTY_UNIT) {
      RETURN_IF_ERROR(RequireId(r.unit_id(), f, "unit_id"));
    } else if (r.type() == v1::RECIPIENT_TYPE_MEMBER) {
      RETURN_IF_ERROR(RequireId(r.member_id(), f, "member_id"));
    } else {
      RETURN_IF_ERROR(RequireText(r.name(), f, "name"));
    }
    RETURN_IF_ERROR(
        OptionalId(r.counted_under_unit_id(), f, "counted_under_unit_id"));
    if (collective_only && IsIndividual(r.type())) {
      return Invalid(Sub(f, "type"),
                     "a Cờ thi đua (CO_THI_DUA) goes to collectives only");
    }
  }
  if (e.has_aggregate()) {
    const v1::AggregateRecipients& a = e.aggregate();
    const std::string f = Sub(p, "aggregate");
    if (a.collectives() < 0 || a.individuals() < 0) {
      return Invalid(f, "counts cannot be negative");
    }
    if (a.collectives() + static_cast<int64_t>(a.individuals()) == 0) {
      return Invalid(f, "at least one recipient must be counted");
    }
    if (collective_only && a.individuals() > 0) {
      return Invalid(Sub(f, "individuals"),
                     "a Cờ thi đua (CO_THI_DUA) goes to collectives only");
    }
    RETURN_IF_ERROR(
        OptionalId(a.counted_under_unit_id(), f, "counted_under_unit_id"));
  }
  return absl::OkStatus();
}

absl::Status CheckPayload(const v1::Event& event, const std::string& path,
                          int64_t day, const ValidationLimits& limits,
                          int64_t today);

absl::Status CheckCorrection(const v1::EventCorrected& e, const std::string& p,
                             const ValidationLimits& limits, int64_t today) {
  if (e.target_position() == 0) {
    return Invalid(Sub(p, "target_position"), "required");
  }
  RETURN_IF_ERROR(RequireText(e.reason(), p, "reason"));
  if (!e.has_replacement()) return Invalid(Sub(p, "replacement"), "required");
  const v1::Event& r = e.replacement();
  const std::string f = Sub(p, "replacement");
  if (r.payload_case() == v1::Event::kEventCorrected ||
      r.payload_case() == v1::Event::kEventRetracted) {
    return Invalid(f,
                   "a replacement cannot itself be a correction or a "
                   "retraction; correct the chain's latest fact instead");
  }
  if (!r.has_business_date()) {
    return Invalid(Sub(f, "business_date"), "required");
  }
  ASSIGN_OR_RETURN(int64_t day,
                   CheckDate(r.business_date(), Sub(f, "business_date")));
  return CheckPayload(r, f, day, limits, today);
}

absl::Status CheckPayload(const v1::Event& event, const std::string& path,
                          int64_t day, const ValidationLimits& limits,
                          int64_t today) {
  switch (event.payload_case()) {
    case v1::Event::kUnitCreated:
      return CheckUnitCreated(event.unit_created(), Sub(path, "unit_created"));
    case v1::Event::kUnitRenamed:
      return CheckUnitRenamed(event.unit_renamed(), Sub(path, "unit_renamed"));
    case v1::Event::kUnitMoved:
      return CheckUnitMoved(event.unit_moved(), Sub(path, "unit_moved"));
    case v1::Event::kUnitsMerged:
      return CheckUnitsMerged(event.units_merged(), Sub(path, "units_merged"));
    case v1::Event::kUnitDissolved:
      return CheckUnitDissolved(event.unit_dissolved(),
                                Sub(path, "unit_dissolved"));
    case v1::Event::kMemberJoined:
      return CheckMemberJoined(event.member_joined(),
                               Sub(path, "member_joined"));
    case v1::Event::kMemberTransferred:
      return CheckMemberTransferred(event.member_transferred(),
                                    Sub(path, "member_transferred"));
    case v1::Event::kMemberLeft:
      return CheckMemberLeft(event.member_left(), Sub(path, "member_left"));
    case v1::Event::kPlanIssued:
      return CheckPlanIssued(event.plan_issued(), Sub(path, "plan_issued"),
                             day);
    case v1::Event::kSessionHeld:
      return CheckSessionHeld(event.session_held(), Sub(path, "session_held"),
                              day);
    case v1::Event::kCommitmentRegistered:
      return CheckCommitmentRegistered(event.commitment_registered(),
                                       Sub(path, "commitment_registered"));
    case v1::Event::kCommitmentEvaluated:
      return CheckCommitmentEvaluated(event.commitment_evaluated(),
                                      Sub(path, "commitment_evaluated"));
    case v1::Event::kAwardGiven:
      return CheckAwardGiven(event.award_given(), Sub(path, "award_given"));
    case v1::Event::kEventCorrected:
      return CheckCorrection(event.event_corrected(),
                             Sub(path, "event_corrected"), limits, today);
    case v1::Event::kEventRetracted: {
      const v1::EventRetracted& e = event.event_retracted();
      const std::string f = Sub(path, "event_retracted");
      if (e.target_position() == 0) {
        return Invalid(Sub(f, "target_position"), "required");
      }
      return RequireEnum(e.reason(), f, "reason");
    }
    case v1::Event::PAYLOAD_NOT_SET:
      break;
  }
  return Invalid(path,
                 "no event payload: set one of unit_created, "
                 "session_held, plan_issued, ... (see events.proto)");
}

}  // namespace

absl::Status ValidateId(absl::string_view id, const std::string& field) {
  if (id.empty() || id.size() > 128) {
    return Invalid(field, "an id is 1 to 128 characters");
  }
  for (char c : id) {
    if (!IsIdChar(c)) {
      return Invalid(field, absl::StrCat("'", id,
                                         "' has a character outside "
                                         "[A-Za-z0-9._:-]"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateStreamName(absl::string_view stream,
                                const std::string& field) {
  if (stream.empty() || stream.size() > 256) {
    return Invalid(field, "a stream name is 1 to 256 characters");
  }
  for (char c : stream) {
    if (c <= ' ' || c > '~') {
      return Invalid(field, "a stream name is printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  if (request_id.size() > 128) {
    return Invalid("request_id", "at most 128 characters");
  }
  for (char c : request_id) {
    if (c <= ' ' || c > '~') {
      return Invalid("request_id", "printable ASCII without spaces only");
    }
  }
  return absl::OkStatus();
}

// Sets business_date from occurred_at (the local date in Asia/Ho_Chi_Minh)
// if it is missing, or checks that the two agree.
absl::Status ApplyOccurredAt(const std::string& path, const v1::Event** checked,
                             std::string* payload,
                             std::unique_ptr<v1::Event>* normalized) {
  static const absl::StatusOr<absl::TimeZone>* const zone =
      new absl::StatusOr<absl::TimeZone>(VietnamTimeZone());
  if (!zone->ok()) return zone->status();
  const google::protobuf::Timestamp& ts = (*checked)->occurred_at();
  // 1900-01-01 .. 2199-12-31 in UTC seconds.
  if (ts.seconds() < -2208988800LL || ts.seconds() > 7258118399LL ||
      ts.nanos() < 0 || ts.nanos() > 999999999) {
    return Invalid(path, "occurred_at", "not an instant in 1900..2199");
  }
  const absl::Time t =
      absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
  const absl::CivilDay local = absl::ToCivilDay(t, **zone);
  if ((*checked)->has_business_date()) {
    const v1::Date& d = (*checked)->business_date();
    if (d.year() != local.year() || d.month() != local.month() ||
        d.day() != local.day()) {
      return Invalid(path, "occurred_at",
                     absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M", t, **zone),
                                  " in Asia/Ho_Chi_Minh falls on ",
                                  absl::FormatCivilTime(local),
                                  ", not on business_date ", FormatDayIso(d),
                                  "; give one of them, or both in "
                                  "agreement"));
    }
    return absl::OkStatus();
  }
  if (normalized->get() != *checked) {
    *normalized = std::make_unique<v1::Event>(**checked);
  }
  *(*normalized)->mutable_business_date() = FromCivilDay(local);
  payload->clear();
  (*normalized)->SerializeToString(payload);
  *checked = normalized->get();
  return absl::OkStatus();
}

absl::Status ValidateEncoded(const v1::Event& event, absl::string_view encoded,
                             const std::string& path,
                             const ValidationLimits& limits,
                             absl::CivilDay today, std::string* payload,
                             std::unique_ptr<v1::Event>* normalized) {
  normalized->reset();
  if (encoded.size() > limits.max_event_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        path, ": event of ", encoded.size(), " bytes; at most ",
        limits.max_event_bytes, " allowed (nenepd --max_event_bytes)"));
  }
  const v1::Event* checked = &event;
  switch (CheckWire(v1::Event::descriptor(), encoded, limits.max_text_bytes)) {
    case WireVerdict::kOk:
      payload->assign(encoded.data(), encoded.size());
      break;
    case WireVerdict::kInvalid: {
      // Rare: let the reflection walk say precisely what is wrong.
      std::string walk_path = path;
      bool needs_nfc = false;
      RETURN_IF_ERROR(CheckGeneric(event, &walk_path, limits, &needs_nfc));
      // The event as parsed is fine: the bytes held what parsing drops (an
      // earlier copy of a field sent twice) or nest deeper than the wire
      // check follows. Store the event as parsed, if its own encoding
      // checks.
      std::string reencoded = event.SerializeAsString();
      const WireVerdict again =
          CheckWire(v1::Event::descriptor(), reencoded, limits.max_text_bytes);
      if (again == WireVerdict::kInvalid) {
        return Invalid(path,
                       "the event nests corrections too deeply or holds text "
                       "the server cannot store; send each correction of a "
                       "correction as its own event");
      }
      *normalized = std::make_unique<v1::Event>(event);
      checked = normalized->get();
      if (again == WireVerdict::kNeedsNfc) {
        absl::Status s = NormalizeStrings(normalized->get());
        if (!s.ok()) return Invalid(path, s.message());
        reencoded = checked->SerializeAsString();
      }
      *payload = std::move(reencoded);
      break;
    }
    case WireVerdict::kNeedsNfc: {
      *normalized = std::make_unique<v1::Event>(event);
      absl::Status s = NormalizeStrings(normalized->get());
      if (!s.ok()) return Invalid(path, s.message());
      checked = normalized->get();
      payload->clear();
      checked->SerializeToString(payload);
      break;
    }
  }
  if (checked->has_occurred_at()) {
    RETURN_IF_ERROR(ApplyOccurredAt(path, &checked, payload, normalized));
  }
  if (!checked->has_business_date()) {
    return Invalid(path, "business_date",
                   "required (or give occurred_at, the instant)");
  }
  ASSIGN_OR_RETURN(int64_t day, CheckDate(checked->business_date(),
                                          Sub(path, "business_date")));
  const int64_t today_number = DayNumber(today);
  if (day > today_number + limits.max_future_days) {
    return Invalid(path, "business_date",
                   absl::StrCat(FormatDayIso(checked->business_date()),
                                " is in the future (today in "
                                "Asia/Ho_Chi_Minh is ",
                                absl::FormatCivilTime(today), ")"));
  }
  return CheckPayload(*checked, path, day, limits, today_number);
}

absl::Status ValidateAndSerialize(const v1::Event& event,
                                  const std::string& path,
                                  const ValidationLimits& limits,
                                  absl::CivilDay today, std::string* payload,
                                  std::unique_ptr<v1::Event>* normalized) {
  std::string encoded;
  event.SerializeToString(&encoded);
  return ValidateEncoded(event, encoded, path, limits, today, payload,
                         normalized);
}

absl::Status ValidateEvent(const v1::Event& event, const std::string& path,
                           const ValidationLimits& limits, absl::CivilDay today,
                           std::unique_ptr<v1::Event>* normalized) {
  std::string payload;
  return ValidateAndSerialize(event, path, limits, today, &payload, normalized);
}

absl::string_view EventTypeName(const v1::Event& event) {
  if (event.payload_case() == v1::Event::PAYLOAD_NOT_SET) return "";
  const google::protobuf::FieldDescriptor* f =
      v1::Event::descriptor()->FindFieldByNumber(event.payload_case());
  return f == nullptr ? absl::string_view()
                      : absl::string_view(f->message_type()->name());
}

std::string NaturalStream(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kUnitCreated:
      return absl::StrCat("unit-", event.unit_created().unit_id());
    case v1::Event::kUnitRenamed:
      return absl::StrCat("unit-", event.unit_renamed().unit_id());
    case v1::Event::kUnitMoved:
      return absl::StrCat("unit-", event.unit_moved().unit_id());
    case v1::Event::kUnitsMerged:
      return absl::StrCat("unit-", event.units_merged().target_unit_id());
    case v1::Event::kUnitDissolved:
      return absl::StrCat("unit-", event.unit_dissolved().unit_id());
    case v1::Event::kMemberJoined:
      return absl::StrCat("member-", event.member_joined().member_id());
    case v1::Event::kMemberTransferred:
      return absl::StrCat("member-", event.member_transferred().member_id());
    case v1::Event::kMemberLeft:
      return absl::StrCat("member-", event.member_left().member_id());
    case v1::Event::kPlanIssued:
      return absl::StrCat("plan-", event.plan_issued().plan_id());
    case v1::Event::kSessionHeld:
      return absl::StrCat("sessions-", event.session_held().unit_id());
    case v1::Event::kCommitmentRegistered:
      return absl::StrCat("commitment-",
                          event.commitment_registered().commitment_id());
    case v1::Event::kCommitmentEvaluated:
      return absl::StrCat("commitment-",
                          event.commitment_evaluated().commitment_id());
    case v1::Event::kAwardGiven:
      return absl::StrCat("award-", event.award_given().award_id());
    case v1::Event::kEventCorrected:
    case v1::Event::kEventRetracted:
    case v1::Event::PAYLOAD_NOT_SET:
      break;
  }
  return "";
}

}  // namespace nenep::services
