#include "services/common/wire_check.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "nenep/v1/events.pb.h"
#include "services/common/calendar.h"
#include "services/common/text.h"

namespace nenep::services {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;

enum class Kind : uint8_t { kNone, kScalar, kEnum, kString, kMessage, kDate };

struct MessageRules;

struct FieldRule {
  Kind kind = Kind::kNone;
  int wire_type = 0;      // of a single (unpacked) value
  bool repeated = false;  // only repeated numbers may arrive packed
  const EnumDescriptor* enum_type = nullptr;
  const MessageRules* message = nullptr;
};

// Field rules of one message type, indexed by field number.
struct MessageRules {
  std::vector<FieldRule> fields;
};

// Rules for every message type reachable from a root, built once.
class RuleBook {
 public:
  const MessageRules* For(const Descriptor* d) {
    absl::MutexLock lock(&mu_);
    return BuildLocked(d);
  }

 private:
  const MessageRules* BuildLocked(const Descriptor* d)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto [it, inserted] = rules_.try_emplace(d, nullptr);
    if (!inserted) return it->second.get();
    it->second = std::make_unique<MessageRules>();
    MessageRules* rules = it->second.get();
    int max = 0;
    for (int i = 0; i < d->field_count(); ++i) {
      max = std::max(max, d->field(i)->number());
    }
    rules->fields.resize(max + 1);
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      FieldRule& r = rules->fields[f->number()];
      r.repeated = f->is_repeated();
      switch (f->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          r.kind = f->type() == FieldDescriptor::TYPE_STRING ? Kind::kString
                                                             : Kind::kScalar;
          r.wire_type = 2;
          break;
        case FieldDescriptor::CPPTYPE_ENUM:
          r.kind = Kind::kEnum;
          r.enum_type = f->enum_type();
          r.wire_type = 0;
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          r.kind = f->message_type() == v1::Date::descriptor() ? Kind::kDate
                                                               : Kind::kMessage;
          r.message = BuildLocked(f->message_type());
          r.wire_type = 2;
          break;
        case FieldDescriptor::CPPTYPE_DOUBLE:
        case FieldDescriptor::CPPTYPE_INT64:
        case FieldDescriptor::CPPTYPE_UINT64:
          r.kind = Kind::kScalar;
          r.wire_type = f->type() == FieldDescriptor::TYPE_FIXED64 ||
                                f->type() == FieldDescriptor::TYPE_SFIXED64 ||
                                f->type() == FieldDescriptor::TYPE_DOUBLE
                            ? 1
                            : 0;
          break;
        default:
          r.kind = Kind::kScalar;
          r.wire_type = f->type() == FieldDescriptor::TYPE_FIXED32 ||
                                f->type() == FieldDescriptor::TYPE_SFIXED32 ||
                                f->type() == FieldDescriptor::TYPE_FLOAT
                            ? 5
                            : 0;
          break;
      }
    }
    return rules;
  }

  absl::Mutex mu_;
  absl::flat_hash_map<const Descriptor*, std::unique_ptr<MessageRules>> rules_
      ABSL_GUARDED_BY(mu_);
};

class Reader {
 public:
  Reader(const char* p, const char* end) : p_(p), end_(end) {}
  bool done() const { return p_ >= end_; }
  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = static_cast<uint8_t>(*p_++);
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool Bytes(absl::string_view* out) {
    uint64_t len = 0;
    if (!Varint(&len) || len > static_cast<uint64_t>(end_ - p_)) return false;
    *out = absl::string_view(p_, len);
    p_ += len;
    return true;
  }
  bool Skip(size_t n) {
    if (n > static_cast<size_t>(end_ - p_)) return false;
    p_ += n;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

// A byte text may not hold: a control character other than tab, newline
// and carriage return.
bool Forbidden(unsigned char c) {
  return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
}

bool TextOk(absl::string_view text, size_t max, bool* needs_nfc) {
  if (text.size() > max) return false;
  // Eight bytes at a time: any byte below 0x20 or equal to 0x7f sends the
  // word to the exact check; the high bits say whether all is ASCII.
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHigh = 0x8080808080808080;
  const char* p = text.data();
  const size_t n = text.size();
  uint64_t high = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    const uint64_t del = w ^ (kOnes * 0x7f);
    const uint64_t suspect =
        ((w - kOnes * 0x20) & ~w & kHigh) | ((del - kOnes) & ~del & kHigh);
    if (suspect != 0) {
      for (size_t k = i; k < i + 8; ++k) {
        if (Forbidden(static_cast<unsigned char>(p[k]))) return false;
      }
    }
    high |= w & kHigh;
  }
  for (; i < n; ++i) {
    const auto c = static_cast<unsigned char>(p[i]);
    if (Forbidden(c)) return false;
    high |= c & 0x80;
  }
  if (high != 0 && !IsNfc(text)) *needs_nfc = true;
  return true;
}

bool DateOk(absl::string_view bytes) {
  Reader r(bytes.data(), bytes.data() + bytes.size());
  int64_t year = 0, month = 0, day = 0;
  while (!r.done()) {
    uint64_t tag = 0, v = 0;
    if (!r.Varint(&tag) || (tag & 7) != 0 || !r.Varint(&v)) return false;
    const int64_t value = static_cast<int32_t>(v);
    switch (tag >> 3) {
      case 1:
        year = value;
        break;
      case 2:
        month = value;
        break;
      case 3:
        day = value;
        break;
      default:
        return false;
    }
  }
  return year >= 1900 && year <= 2199 && month >= 1 && month <= 12 &&
         day >= 1 && day <= DaysInMonth(year, static_cast<int>(month));
}

bool EnumOk(const EnumDescriptor* e, uint64_t v) {
  return e->FindValueByNumber(static_cast<int32_t>(v)) != nullptr;
}

bool Walk(const MessageRules& rules, absl::string_view bytes, size_t max_text,
          bool* needs_nfc, int depth) {
  if (depth > 16) return false;
  Reader r(bytes.data(), bytes.data() + bytes.size());
  while (!r.done()) {
    uint64_t tag = 0;
    if (!r.Varint(&tag)) return false;
    const uint64_t number = tag >> 3;
    const int wire = static_cast<int>(tag & 7);
    if (number == 0 || number >= rules.fields.size()) return false;
    const FieldRule& f = rules.fields[number];
    if (f.kind == Kind::kNone) return false;  // unknown field
    if (wire != f.wire_type) {
      // Packed repeated enums or scalars arrive length-delimited; a single
      // one sent that way is an unknown field to protobuf.
      if (wire != 2 || f.wire_type == 2 || !f.repeated) return false;
      absl::string_view packed;
      if (!r.Bytes(&packed)) return false;
      Reader values(packed.data(), packed.data() + packed.size());
      while (!values.done()) {
        uint64_t v = 0;
        if (f.wire_type == 0) {
          if (!values.Varint(&v)) return false;
          if (f.kind == Kind::kEnum && !EnumOk(f.enum_type, v)) return false;
        } else if (!values.Skip(f.wire_type == 1 ? 8 : 4)) {
          return false;
        }
      }
      continue;
    }
    switch (wire) {
      case 0: {
        uint64_t v = 0;
        if (!r.Varint(&v)) return false;
        if (f.kind == Kind::kEnum && !EnumOk(f.enum_type, v)) return false;
        break;
      }
      case 1:
        if (!r.Skip(8)) return false;
        break;
      case 5:
        if (!r.Skip(4)) return false;
        break;
      case 2: {
        absl::string_view value;
        if (!r.Bytes(&value)) return false;
        if (f.kind == Kind::kString) {
          if (!TextOk(value, max_text, needs_nfc)) return false;
        } else if (f.kind == Kind::kDate) {
          if (!DateOk(value)) return false;
        } else if (f.kind == Kind::kMessage) {
          if (!Walk(*f.message, value, max_text, needs_nfc, depth + 1)) {
            return false;
          }
        }
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

RuleBook& Rules() {
  static RuleBook* book = new RuleBook();
  return *book;
}

}  // namespace

WireVerdict CheckWire(const Descriptor* descriptor, absl::string_view bytes,
                      size_t max_text_bytes) {
  thread_local const Descriptor* cached_descriptor = nullptr;
  thread_local const MessageRules* cached_rules = nullptr;
  if (descriptor != cached_descriptor) {
    cached_rules = Rules().For(descriptor);
    cached_descriptor = descriptor;
  }
  bool needs_nfc = false;
  if (!Walk(*cached_rules, bytes, max_text_bytes, &needs_nfc, 0)) {
    return WireVerdict::kInvalid;
  }
  return needs_nfc ? WireVerdict::kNeedsNfc : WireVerdict::kOk;
}

}  // namespace nenep::services
