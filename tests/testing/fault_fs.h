// A RocksDB file system that fails on demand, for fault-injection tests:
// writes and syncs of the write-ahead log (*.log files) answer "no space
// left on device" or an I/O error while a fault is on.
//
//   auto fs = std::make_shared<FaultFs>();
//   std::unique_ptr<rocksdb::Env> env = fs->NewEnv();
//   options.log.env = env.get();
//   fs->Set(FaultFs::kNoSpace, FaultFs::kWrites);  // then Clear()
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace nenep::testing {

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  enum Fault { kNone, kNoSpace, kIoError };
  enum Where { kWrites, kSyncs };  // appends and flushes, or syncs only

  FaultFs();
  const char* Name() const override { return "FaultFs"; }

  void Set(Fault fault, Where where) {
    where_.store(where);
    fault_.store(fault);
  }
  void Clear() { fault_.store(kNone); }
  // How many operations failed so far.
  int failures() const { return failures_.load(); }

  // An Env over this file system; it must not outlive *this.
  std::unique_ptr<rocksdb::Env> NewEnv();

  rocksdb::IOStatus NewWritableFile(const std::string& name,
                                    const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* f,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& name, const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* f,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& name, const std::string& old_name,
      const rocksdb::FileOptions& options,
      std::unique_ptr<rocksdb::FSWritableFile>* f,
      rocksdb::IODebugContext* dbg) override;

  // The failure for an operation on a WAL file, or OK.
  rocksdb::IOStatus Check(bool sync);

 private:
  void Wrap(const std::string& name,
            std::unique_ptr<rocksdb::FSWritableFile>* f);

  std::atomic<Fault> fault_{kNone};
  std::atomic<Where> where_{kWrites};
  std::atomic<int> failures_{0};
};

}  // namespace nenep::testing
