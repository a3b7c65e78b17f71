// File: storage/log/log_tree.h
//
// The log's Merkle tree as a merkle::NodeSource, for roots and proofs:
//
//   LogTree tree(log);
//   ASSIGN_OR_RETURN(std::string root, merkle::Root(tree, log->TreeSize()));
#pragma once

#include <string>

#include "storage/audit/merkle.h"
#include "storage/log/event_log.h"

namespace nenep::storage {

class LogTree final : public merkle::NodeSource {
 public:
  explicit LogTree(const EventLog* log) : log_(log) {}
  absl::StatusOr<std::string> Node(int level, uint64_t index) const override {
    return log_->TreeNode(level, index);
  }

 private:
  const EventLog* const log_;
};

}  // namespace nenep::storage
