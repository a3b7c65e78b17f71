// Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/NAME/) from
// the demo data: a few small, valid inputs per target, covering each mode
// and each kind of event. Run it after changing an input format:
//
//   ninja -C build nenep_fuzz_make_seeds
//   build/tests/nenep_fuzz_make_seeds tools/demo/demo.jsonl tests/fuzz/corpus
//
// Inputs read with FuzzedDataProvider are laid out by FdpWriter below:
// strings from the front, integers from the back.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "nenep/v1/log.pb.h"
#include "storage/common/coding.h"
#include "storage/log/log_format.h"

namespace nenep::fuzz {
namespace {

// The bytes a FuzzedDataProvider reads back as the values written here, in
// the same order.
class FdpWriter {
 public:
  // ConsumeIntegralInRange(min, max) == min + offset, range = max - min.
  FdpWriter& Int(uint64_t range, uint64_t offset) {
    int bytes = 0;
    for (int shift = 0; shift < 64 && (range >> shift) > 0; shift += 8) {
      ++bytes;
    }
    // Read from the back, the first byte read the most significant.
    for (int i = bytes - 1; i >= 0; --i) {
      back_.push_back(static_cast<char>(offset >> (8 * i)));
    }
    return *this;
  }
  FdpWriter& U64(uint64_t v) {
    return Int(std::numeric_limits<uint64_t>::max(), v);
  }
  FdpWriter& I64(int64_t v) {
    return U64(static_cast<uint64_t>(v) -
               static_cast<uint64_t>(std::numeric_limits<int64_t>::min()));
  }
  // ConsumeRandomLengthString: "\\" is a backslash, "\\" + other ends it.
  FdpWriter& Str(const std::string& s) {
    for (char c : s) {
      front_.push_back(c);
      if (c == '\\') front_.push_back('\\');
    }
    front_ += "\\;";
    return *this;
  }
  // ConsumeBytesAsString(n) or ConsumeRemainingBytesAsString.
  FdpWriter& Raw(const std::string& s) {
    front_ += s;
    return *this;
  }
  std::string Bytes() const {
    return front_ + std::string(back_.rbegin(), back_.rend());
  }

 private:
  std::string front_, back_;
};

class Corpus {
 public:
  explicit Corpus(std::filesystem::path root) : root_(std::move(root)) {}
  void Put(const std::string& target, const std::string& name,
           const std::string& bytes) {
    const std::filesystem::path dir = root_ / target;
    std::filesystem::create_directories(dir);
    std::ofstream(dir / name, std::ios::binary) << bytes;
    ++written_;
  }
  int written() const { return written_; }

 private:
  std::filesystem::path root_;
  int written_ = 0;
};

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out);
  return out;
}

v1::Event FromJson(const std::string& json) {
  v1::Event e;
  if (!google::protobuf::util::JsonStringToMessage(json, &e).ok()) {
    std::cerr << "make_seeds: bad event JSON: " << json << "\n";
    std::exit(1);
  }
  return e;
}

// The first demo event of each type, by payload field name.
std::map<std::string, v1::Event> DemoEvents(const std::string& path) {
  std::map<std::string, v1::Event> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    v1::BatchEntry entry;
    if (!google::protobuf::util::JsonStringToMessage(line, &entry).ok()) {
      continue;
    }
    const auto* f = v1::Event::descriptor()->FindFieldByNumber(
        entry.event().payload_case());
    if (f != nullptr) out.try_emplace(f->name(), entry.event());
  }
  // Kinds the demo data lacks.
  out.try_emplace("unit_renamed", FromJson(R"({"businessDate":{"year":2020,
      "month":3,"day":1},"unitRenamed":{"unitId":"cb-tccb",
      "newName":"Chi bộ Vụ Tổ chức"}})"));
  out.try_emplace("member_transferred", FromJson(R"({"businessDate":{
      "year":2021,"month":5,"day":4},"memberTransferred":{"memberId":"dv-1",
      "fromCellId":"cb-tccb","toCellId":"cb-gqkntc",
      "type":"TRANSFER_TYPE_INTERNAL"}})"));
  out.try_emplace("member_left", FromJson(R"({"businessDate":{"year":2022,
      "month":12,"day":31},"memberLeft":{"memberId":"dv-1",
      "cellId":"cb-gqkntc","reason":"LEAVE_REASON_DECEASED"}})"));
  out.try_emplace("event_retracted", FromJson(R"({"businessDate":{
      "year":2023,"month":1,"day":2},"eventRetracted":{"targetPosition":"7",
      "reason":"RETRACTION_REASON_DUPLICATE","note":"nhập trùng"}})"));
  v1::Event corrected = FromJson(R"({"businessDate":{"year":2023,"month":1,
      "day":2},"eventCorrected":{"targetPosition":"3",
      "reason":"sai tên"}})");
  *corrected.mutable_event_corrected()->mutable_replacement() =
      out.at("unit_renamed");
  out.try_emplace("event_corrected", corrected);
  return out;
}

void ImportLineSeeds(const std::map<std::string, v1::Event>& events,
                     Corpus* corpus) {
  for (const auto& [type, event] : events) {
    v1::BatchEntry entry;
    *entry.mutable_event() = event;
    corpus->Put("import_line", type + ".jsonl", Json(entry));
  }
  // The other accepted shape (a bare event), a stream and an expectation,
  // an instant instead of a date, text not in NFC, and a refused line.
  corpus->Put("import_line", "bare_event.jsonl",
              Json(events.at("member_left")));
  v1::BatchEntry entry;
  *entry.mutable_event() = events.at("session_held");
  entry.set_stream("sessions-" + entry.event().session_held().unit_id());
  entry.mutable_expected_revision()->set_exact(4);
  corpus->Put("import_line", "stream_expected.jsonl", Json(entry));
  entry.Clear();
  *entry.mutable_event() = events.at("member_joined");
  entry.mutable_event()->clear_business_date();
  entry.mutable_event()->mutable_occurred_at()->set_seconds(1704070800);
  corpus->Put("import_line", "occurred_at.jsonl", Json(entry));
  corpus->Put("import_line", "nfd_name.jsonl",
              R"({"businessDate":{"year":2020,"month":3,"day":1},)"
              R"("unitRenamed":{"unitId":"db-btp",)"
              "\"newName\":\"Bo\xcc\x82\xcc\xa3 Tu\xcc\x9b pha\xcc\x81p\"}}");
  corpus->Put("import_line", "unknown_field.jsonl",
              R"({"event":{"businessDate":{"year":2020,"month":3,"day":1},)"
              R"("unitRenamed":{"unitId":"x","newName":"y","colour":"red"}}})");
}

void ValidationSeeds(const std::map<std::string, v1::Event>& events,
                     Corpus* corpus) {
  for (const auto& [type, event] : events) {
    corpus->Put("validation", "event_" + type,
                std::string(1, '\0') + event.SerializeAsString());
  }
  v1::Event nfd = events.at("unit_renamed");
  nfd.mutable_unit_renamed()->set_new_name(
      "Chi bo\xcc\x82\xcc\xa3 mo\xcc\x9b\xcc\x81i");
  corpus->Put("validation", "event_nfd", '\0' + nfd.SerializeAsString());
  v1::Event at = events.at("member_joined");
  at.clear_business_date();
  at.mutable_occurred_at()->set_seconds(1704070800);
  corpus->Put("validation", "event_occurred_at", '\0' + at.SerializeAsString());

  v1::AppendRequest append;
  append.set_request_id("import-0001");
  append.mutable_expected_revision()->mutable_no_stream();
  *append.add_events() = events.at("member_joined");
  v1::Event left = events.at("member_left");
  left.mutable_member_left()->set_member_id(
      append.events(0).member_joined().member_id());
  *append.add_events() = left;
  corpus->Put("validation", "append_request",
              '\1' + append.SerializeAsString());

  v1::BatchAppendRequest batch;
  batch.set_request_id("batch-0001");
  for (const char* type : {"unit_created", "session_held", "award_given"}) {
    v1::BatchEntry* e = batch.add_entries();
    *e->mutable_event() = events.at(type);
  }
  batch.mutable_entries(1)->mutable_expected_revision()->set_exact(2);
  batch.mutable_entries(2)->set_stream("award-x");
  corpus->Put("validation", "batch_append_request",
              '\2' + batch.SerializeAsString());

  corpus->Put("validation", "id_unit", "\3db-tcthads");
  corpus->Put("validation", "id_stream", "\3sessions-cb-tccb.2024:07");
  corpus->Put("validation", "id_spaces", "\3not an id");
}

void LogFormatSeeds(const std::map<std::string, v1::Event>& events,
                    Corpus* corpus) {
  corpus->Put("log_format", "log_key_1", '\0' + storage::LogKey(1));
  corpus->Put("log_format", "log_key_big",
              '\0' + storage::LogKey(uint64_t{1} << 40));
  const v1::Event& event = events.at("session_held");
  const std::string stream = "sessions-" + event.session_held().unit_id();
  std::string record;
  storage::EncodeLogRecord(stream, 12, 1717200000123456, "SessionHeld",
                           event.SerializeAsString(), "import-0001",
                           "alice@example", &record);
  corpus->Put("log_format", "record", '\1' + record);
  storage::EncodeLogRecord("unit-dbk", 1, 0, "UnitCreated", "", "", "",
                           &record);
  corpus->Put("log_format", "record_minimal", '\1' + record);
  corpus->Put("log_format", "encode",
              '\2' + FdpWriter()
                         .Str(stream)
                         .U64(12)
                         .I64(1717200000123456)
                         .Str("SessionHeld")
                         .Str("import-0001")
                         .Str("alice@example")
                         .Raw(event.SerializeAsString())
                         .Bytes());
  corpus->Put("log_format", "stream_keys",
              '\3' + FdpWriter().Str("a").Str("a-b").U64(1).U64(300).Bytes());
  corpus->Put("log_format", "parse_stream_key",
              '\4' + FdpWriter()
                         .Str(stream)
                         .Raw(storage::StreamIndexKey(stream, 5))
                         .Bytes());
}

void MerkleSeeds(Corpus* corpus) {
  constexpr uint64_t kLeaves = 1100;  // as merkle_proof_fuzzer.cc
  FdpWriter arbitrary;
  arbitrary.Int(3, 0).U64(3).U64(7).Str(std::string(32, 'l'));
  arbitrary.Str(std::string(32, 'r')).Int(70, 2).Str(std::string(32, 'a'));
  arbitrary.Str(std::string(32, 'b'));
  corpus->Put("merkle_proof", "arbitrary", arbitrary.Bytes());
  for (auto [size, index] : std::vector<std::pair<uint64_t, uint64_t>>{
           {7, 3}, {1, 0}, {1024, 1023}, {kLeaves, 1099}}) {
    corpus->Put("merkle_proof", absl::StrCat("inclusion_", index, "_", size),
                FdpWriter()
                    .Int(3, 1)
                    .Int(kLeaves - 1, size - 1)
                    .Int(size - 1, index)
                    .Int(4, 0)
                    .Bytes());
  }
  // Index 5 of 8 with one bit of the proof's first hash flipped.
  corpus->Put("merkle_proof", "inclusion_flipped",
              FdpWriter()
                  .Int(3, 1)
                  .Int(kLeaves - 1, 7)
                  .Int(7, 5)
                  .Int(4, 1)
                  .Int(5, 5)
                  .Int(7, 0)
                  .Int(2, 0)
                  .Int(255, 9)
                  .Bytes());
  for (auto [old_size, size] : std::vector<std::pair<uint64_t, uint64_t>>{
           {3, 7}, {4, 8}, {0, 5}, {6, 6}, {1000, kLeaves}}) {
    corpus->Put("merkle_proof",
                absl::StrCat("consistency_", old_size, "_", size),
                FdpWriter()
                    .Int(3, 2)
                    .Int(kLeaves, size)
                    .Int(size, old_size)
                    .Int(4, 0)
                    .Bytes());
  }
  corpus->Put("merkle_proof", "builder_5_40",
              FdpWriter().Int(3, 3).Int(kLeaves, 5).Int(64, 35).Bytes());
}

}  // namespace
}  // namespace nenep::fuzz

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " DEMO_JSONL CORPUS_DIR\n";
    return 2;
  }
  const auto events = nenep::fuzz::DemoEvents(argv[1]);
  nenep::fuzz::Corpus corpus(argv[2]);
  nenep::fuzz::ImportLineSeeds(events, &corpus);
  nenep::fuzz::ValidationSeeds(events, &corpus);
  nenep::fuzz::LogFormatSeeds(events, &corpus);
  nenep::fuzz::MerkleSeeds(&corpus);
  std::cout << corpus.written() << " seed(s) written under " << argv[2] << "\n";
  return 0;
}
