#include "storage/projections/skim.h"

#include <cstdint>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "google/protobuf/descriptor.h"
#include "nenep/v1/events.pb.h"

namespace nenep::projections {
namespace {

constexpr absl::string_view kUnreadFields[] = {
    "nenep.v1.CommitmentItem.text",           "nenep.v1.CommitmentItem.measure",
    "nenep.v1.CommitmentEvaluated.evaluator", "nenep.v1.SessionHeld.topic",
    "nenep.v1.SessionHeld.location",          "nenep.v1.HcmItem.title",
    "nenep.v1.MemberJoined.display_name",
};

// Copied whole (see skim.h).
constexpr absl::string_view kCopiedWhole = "nenep.v1.Event.event_corrected";

// Deeper nesting than this is not skimmed (Skim returns false); the events
// nest three levels.
constexpr size_t kMaxDepth = 8;

bool ReadVarint(const char** p, const char* end, uint64_t* value) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(*(*p)++);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) {
      *value = v;
      return true;
    }
  }
  return false;
}

void AppendVarint(uint64_t v, std::string* out) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

}  // namespace

absl::Span<const absl::string_view> UnreadFields() { return kUnreadFields; }

// What to do with each field of one message type. Fields not listed (and
// any field not length-delimited on the wire) are copied.
struct Skimmer::Plan {
  enum class Kind : uint8_t { kCopy, kDrop, kDescend };
  struct Action {
    Kind kind = Kind::kCopy;
    const Plan* sub = nullptr;  // kDescend
  };
  std::vector<Action> by_number;

  const Action& For(uint64_t number) const {
    static const Action kCopy;
    return number < by_number.size() ? by_number[number] : kCopy;
  }
};

namespace {

// Builds the plans of nenep.v1.Event and the messages under it, once.
class Planner {
 public:
  using Plan = Skimmer::Plan;

  Planner() : unread_(std::begin(kUnreadFields), std::end(kUnreadFields)) {
    root_ = For(v1::Event::descriptor());
  }

  const Plan* root() const { return root_; }

 private:
  // Null if nothing under `d` is dropped (or `d` is being planned: a
  // cycle back to it copies).
  const Plan* For(const google::protobuf::Descriptor* d) {
    if (auto it = plans_.find(d); it != plans_.end()) return it->second.get();
    plans_[d] = nullptr;
    auto plan = std::make_unique<Plan>();
    bool any = false;
    for (int i = 0; i < d->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* f = d->field(i);
      Plan::Action action;
      if (unread_.contains(f->full_name())) {
        action.kind = Plan::Kind::kDrop;
      } else if (f->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE &&
                 f->full_name() != kCopiedWhole) {
        if (const Plan* sub = For(f->message_type())) {
          action.kind = Plan::Kind::kDescend;
          action.sub = sub;
        }
      }
      if (action.kind == Plan::Kind::kCopy) continue;
      any = true;
      const size_t number = static_cast<size_t>(f->number());
      if (plan->by_number.size() <= number) {
        plan->by_number.resize(number + 1);
      }
      plan->by_number[number] = action;
    }
    if (!any) return nullptr;
    const Plan* out = plan.get();
    plans_[d] = std::move(plan);
    return out;
  }

  absl::flat_hash_set<std::string> unread_;
  absl::flat_hash_map<const google::protobuf::Descriptor*,
                      std::unique_ptr<Plan>>
      plans_;
  const Plan* root_ = nullptr;
};

const Skimmer::Plan* RootPlan() {
  static const Planner* const planner = new Planner();
  return planner->root();
}

}  // namespace

bool Skimmer::Skim(absl::string_view payload, std::string* out) {
  const Plan* root = RootPlan();
  if (root == nullptr) {
    out->append(payload.data(), payload.size());
    return true;
  }
  if (scratch_.size() < kMaxDepth) scratch_.resize(kMaxDepth);
  const size_t before = out->size();
  if (!SkimMessage(*root, payload.data(), payload.data() + payload.size(), 0,
                   out)) {
    out->resize(before);
    return false;
  }
  return true;
}

bool Skimmer::SkimMessage(const Plan& plan, const char* p, const char* end,
                          size_t depth, std::string* out) {
  const char* pending = p;  // start of the bytes not yet copied to *out
  while (p < end) {
    const char* field = p;
    uint64_t tag;
    if (!ReadVarint(&p, end, &tag)) return false;
    const char* length_at = p;
    switch (tag & 7) {
      case 0: {  // varint
        uint64_t unused;
        if (!ReadVarint(&p, end, &unused)) return false;
        break;
      }
      case 1:  // 64-bit
        if (end - p < 8) return false;
        p += 8;
        break;
      case 5:  // 32-bit
        if (end - p < 4) return false;
        p += 4;
        break;
      case 2: {  // length-delimited
        uint64_t length;
        if (!ReadVarint(&p, end, &length)) return false;
        if (length > static_cast<uint64_t>(end - p)) return false;
        const char* body = p;
        p += length;
        const Plan::Action& action = plan.For(tag >> 3);
        if (action.kind == Plan::Kind::kCopy) break;
        out->append(pending, static_cast<size_t>(field - pending));
        pending = p;
        if (action.kind == Plan::Kind::kDrop) break;
        if (depth + 1 >= kMaxDepth) return false;
        std::string& sub = scratch_[depth];
        sub.clear();
        if (!SkimMessage(*action.sub, body, p, depth + 1, &sub)) return false;
        out->append(field, static_cast<size_t>(length_at - field));  // tag
        AppendVarint(sub.size(), out);
        out->append(sub);
        break;
      }
      default:  // groups (3, 4) or no wire type at all
        return false;
    }
  }
  out->append(pending, static_cast<size_t>(end - pending));
  return true;
}

}  // namespace nenep::projections
