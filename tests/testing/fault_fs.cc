#include "tests/testing/fault_fs.h"

#include <utility>

#include "absl/strings/match.h"

namespace nenep::testing {
namespace {

class FaultFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<rocksdb::FSWritableFile> f, FaultFs* fs)
      : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(false);
    return s.ok() ? target()->Append(data, o, dbg) : s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data,
                           const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v,
                           rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(false);
    return s.ok() ? target()->Append(data, o, v, dbg) : s;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& o,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(false);
    return s.ok() ? target()->Flush(o, dbg) : s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o,
                         rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(true);
    return s.ok() ? target()->Sync(o, dbg) : s;
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o,
                          rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(true);
    return s.ok() ? target()->Fsync(o, dbg) : s;
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t nbytes,
                              const rocksdb::IOOptions& o,
                              rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = fs_->Check(true);
    return s.ok() ? target()->RangeSync(offset, nbytes, o, dbg) : s;
  }

 private:
  FaultFs* const fs_;
};

}  // namespace

FaultFs::FaultFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

std::unique_ptr<rocksdb::Env> FaultFs::NewEnv() {
  return rocksdb::NewCompositeEnv(
      std::shared_ptr<rocksdb::FileSystem>(this, [](rocksdb::FileSystem*) {}));
}

rocksdb::IOStatus FaultFs::Check(bool sync) {
  const Fault f = fault_.load();
  if (f == kNone) return rocksdb::IOStatus::OK();
  if (where_.load() == kSyncs && !sync) return rocksdb::IOStatus::OK();
  ++failures_;
  if (f == kNoSpace) {
    return rocksdb::IOStatus::NoSpace("No space left on device (injected)");
  }
  return rocksdb::IOStatus::IOError("Input/output error (injected)");
}

void FaultFs::Wrap(const std::string& name,
                   std::unique_ptr<rocksdb::FSWritableFile>* f) {
  if (absl::EndsWith(name, ".log")) {
    *f = std::make_unique<FaultFile>(std::move(*f), this);
  }
}

rocksdb::IOStatus FaultFs::NewWritableFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* f, rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewWritableFile(name, options, f, dbg);
  if (s.ok()) Wrap(name, f);
  return s;
}

rocksdb::IOStatus FaultFs::ReopenWritableFile(
    const std::string& name, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* f, rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, f, dbg);
  if (s.ok()) Wrap(name, f);
  return s;
}

rocksdb::IOStatus FaultFs::ReuseWritableFile(
    const std::string& name, const std::string& old_name,
    const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* f, rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s =
      target()->ReuseWritableFile(name, old_name, options, f, dbg);
  if (s.ok()) Wrap(name, f);
  return s;
}

}  // namespace nenep::testing
